import { mulawEncodeSample } from '../../audio/mulaw';
import { abortableSleep } from '../stt/fake';
import type { AudioChunk, TtsProvider } from '../types';

/** Options of {@link FakeTts}. */
export interface FakeTtsOptions {
  /** Delay before the first chunk (ms). Default 0. */
  firstByteMs?: number;
  /** Audio produced per character of text (ms). Default 60 (≈ 150 wpm speech). */
  msPerChar?: number;
  /** Size of each chunk (ms of 8 kHz mu-law; 20 ms = 160 bytes). Default 20. */
  chunkMs?: number;
  /** Delay between chunks (ms). Default 0 (as fast as possible). */
  interChunkMs?: number;
  /** Tone frequency (Hz, rounded to a whole number); 0 gives mu-law silence (0xFF). Default 440. */
  toneHz?: number;
  /** Make a call fail with the returned error (0-based call index). */
  failWith?: (callIndex: number) => Error | undefined;
}

/**
 * Test/benchmark TTS: yields `round(text.length × msPerChar)` ms of 8 kHz mu-law (a tone or silence) in `chunkMs`
 * chunks after `firstByteMs`. Records requests in `calls`. Abort stops the iteration promptly, throwing the
 * signal's reason.
 */
export class FakeTts implements TtsProvider {
  readonly id = 'fake.tts';
  readonly calls: Array<{ text: string; language: string; voice?: string }> = [];

  constructor(private readonly o: FakeTtsOptions = {}) {}

  /** Bytes (= samples at 8 kHz) the fake will produce for `text`. */
  bytesFor(text: string): number {
    return Math.round(text.length * (this.o.msPerChar ?? 60) * 8);
  }

  async *synthesize(text: string, opts: { voice?: string; language: string; signal: AbortSignal }): AsyncGenerator<AudioChunk> {
    const i = this.calls.length;
    this.calls.push({ text, language: opts.language, voice: opts.voice });
    await abortableSleep(this.o.firstByteMs ?? 0, opts.signal);
    const err = this.o.failWith?.(i);
    if (err) throw err;
    const total = this.bytesFor(text);
    const chunk = Math.max(1, Math.round((this.o.chunkMs ?? 20) * 8));
    const hz = this.o.toneHz ?? 440;
    for (let off = 0; off < total; off += chunk) {
      opts.signal.throwIfAborted();
      const n = Math.min(chunk, total - off);
      const data = new Uint8Array(n);
      const tone = hz ? toneSecond(Math.round(hz)) : null;
      for (let k = 0; k < n; k++) data[k] = tone ? tone[(off + k) % 8000] : 0xff;
      yield { encoding: 'mulaw', sampleRate: 8000, data };
      if (this.o.interChunkMs) await abortableSleep(this.o.interChunkMs, opts.signal);
    }
  }
}

const tones = new Map<number, Uint8Array>();

/**
 * One second of a mu-law sine at `hz` (8000 samples, amplitude 8000), computed once per frequency: for a whole
 * number of Hz the tone repeats every 8000 samples, so the fake's output costs a table lookup per byte and
 * benchmarks measure the platform, not Math.sin.
 */
function toneSecond(hz: number): Uint8Array {
  let t = tones.get(hz);
  if (!t) {
    t = new Uint8Array(8000);
    for (let k = 0; k < 8000; k++) t[k] = mulawEncodeSample(8000 * Math.sin((2 * Math.PI * hz * k) / 8000));
    tones.set(hz, t);
  }
  return t;
}
