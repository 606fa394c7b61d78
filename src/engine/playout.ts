import type { AudioChunk } from '../providers/types';
import { frameMulaw, pcmToMulaw8k } from '../audio/frames';

/** What the engine needs from the Twilio side: raw 8 kHz mu-law out, marks, clear. */
export interface MediaTransport {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
}

export interface SegmentResult {
  /** performance.now() when the first audio byte of the segment was sent, or null if none was. */
  firstAudioAt: number | null;
  /** mu-law bytes sent (8000 bytes = 1 s). */
  bytes: number;
  aborted: boolean;
}

/** 8 kHz mu-law: one byte per sample, 8 bytes per ms. */
export const MULAW_BYTES_PER_MS = 8;
const FRAME_BYTES = 160; // 20 ms

/**
 * Sends synthesized audio to Twilio as 20 ms mu-law `media` frames, followed by a `mark` per segment, and tracks
 * which marks are still pending (= audio Twilio has buffered but not finished playing). `mulaw`/8 kHz chunks pass
 * through unchanged; `pcm16` chunks are resampled and encoded.
 */
export class Playout {
  private readonly pending = new Set<string>();
  private readonly cleared = new Set<string>();
  private carry = new Uint8Array(0);
  private streaming = false;

  constructor(private readonly transport: MediaTransport) {}

  /** True while a segment is being sent or Twilio still has our audio buffered (some mark not yet echoed). */
  get speaking(): boolean {
    return this.streaming || this.pending.size > 0;
  }

  /**
   * Streams one segment: each chunk is sent as soon as it arrives; then `mark(markName)`.
   * Stops (without a mark) when `signal` aborts, even if the provider rejects because of the abort. Other provider
   * errors propagate.
   */
  async playSegment(chunks: AsyncIterable<AudioChunk>, markName: string, signal: AbortSignal): Promise<SegmentResult> {
    let firstAudioAt: number | null = null;
    let bytes = 0;
    this.streaming = true;
    try {
      for await (const chunk of chunks) {
        if (signal.aborted) return { firstAudioAt, bytes, aborted: true };
        const mulaw = chunk.encoding === 'mulaw' && chunk.sampleRate === 8000 ? chunk.data : pcmToMulaw8k(pcm16ChunkToPcm(chunk));
        const sent = this.sendFramed(mulaw);
        if (sent > 0 && firstAudioAt === null) firstAudioAt = performance.now();
        bytes += sent;
      }
    } catch (err) {
      // A provider that rejects because we aborted it is not a failure of the segment.
      if (signal.aborted) return { firstAudioAt, bytes, aborted: true };
      throw err;
    } finally {
      this.streaming = false;
    }
    if (signal.aborted) return { firstAudioAt, bytes, aborted: true };
    bytes += this.flushCarry();
    if (firstAudioAt === null && bytes > 0) firstAudioAt = performance.now();
    this.pending.add(markName);
    this.transport.sendMark(markName);
    return { firstAudioAt, bytes, aborted: false };
  }

  /** Handles a mark echoed by Twilio. Returns 'played' or 'cleared' (echoed because of a clear), or 'unknown'. */
  onMark(name: string): 'played' | 'cleared' | 'unknown' {
    if (this.cleared.delete(name)) return 'cleared';
    if (this.pending.delete(name)) return 'played';
    return 'unknown';
  }

  /** Sends `clear`: Twilio drops buffered audio and echoes pending marks, which are then reported as 'cleared'. */
  clear(): void {
    for (const m of this.pending) this.cleared.add(m);
    this.pending.clear();
    this.carry = new Uint8Array(0);
    this.transport.sendClear();
  }

  private sendFramed(mulaw: Uint8Array): number {
    const data = this.carry.length ? concat(this.carry, mulaw) : mulaw;
    const whole = data.length - (data.length % FRAME_BYTES);
    for (const frame of frameMulaw(data.subarray(0, whole), FRAME_BYTES)) this.transport.sendMedia(frame);
    this.carry = data.slice(whole);
    return whole;
  }

  private flushCarry(): number {
    const n = this.carry.length;
    if (n) this.transport.sendMedia(this.carry);
    this.carry = new Uint8Array(0);
    return n;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function pcm16ChunkToPcm(chunk: AudioChunk) {
  const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
  const samples = new Int16Array(Math.floor(chunk.data.byteLength / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return { samples, sampleRate: chunk.sampleRate };
}
