import { mulawDecode } from '../audio/mulaw';
import type { Clock } from './clock';
import type { TurnEvent } from './turn-detector';

/** VAD + endpointing over the caller's 8 kHz PCM (TurnDetector, or a scripted one in tests). */
export interface TurnDetectorLike {
  push(samples8k: Int16Array): Promise<TurnEvent[]>;
  flush(): Promise<TurnEvent[]> | TurnEvent[];
  close?(): void | Promise<void>;
  /** Adaptive endpointing for the current pause (see TurnDetector.endpointAfter). Optional. */
  endpointAfter?(startMs: number, endMs: number, silenceMs: number): boolean;
}

/** Caller audio waiting for the VAD beyond which the call is failed rather than buffered without bound (ms). */
export const MAX_QUEUED_AUDIO_MS = 10_000;

/**
 * The caller's audio on its way to the endpointer: mu-law frames are decoded and queued, and one loop feeds the
 * detector — whatever queued while it was busy goes in as one push (fewer VAD calls when behind, never out of
 * order). The queue is bounded ({@link MAX_QUEUED_AUDIO_MS}). A detector failure fails only that push (`onError`);
 * the next audio is processed as usual. Events come with `wallAt(streamMs)`: the clock time a stream time
 * corresponds to (the audio's arrival, minus what arrived after it).
 */
export class InboundAudio {
  private queue: Int16Array[] = [];
  private queuedSamples = 0;
  private receivedMs = 0;
  private loop: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly detector: TurnDetectorLike,
    private readonly clock: Clock,
    private readonly onEvents: (events: TurnEvent[], wallAt: (streamMs: number) => number) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Queues raw 8 kHz mu-law (any length).
   * @throws Error when more than {@link MAX_QUEUED_AUDIO_MS} of audio already waits (the stream is then closed).
   */
  push(mulaw: Uint8Array): void {
    if (this.stopped) return;
    if (this.queuedSamples / 8 > MAX_QUEUED_AUDIO_MS) throw new Error(`more than ${MAX_QUEUED_AUDIO_MS} ms of caller audio waiting for the VAD`);
    const samples = mulawDecode(mulaw);
    this.receivedMs += samples.length / 8;
    this.queue.push(samples);
    this.queuedSamples += samples.length;
    this.loop ??= this.run();
  }

  /** Stops taking audio; resolves when what was queued has gone through the detector. */
  async drain(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.queue.length) {
      const frames = this.queue.splice(0);
      const n = frames.reduce((a, f) => a + f.length, 0);
      const samples = frames.length === 1 ? frames[0] : concat(frames, n);
      const receivedAt = this.clock.now();
      const msAtPush = this.receivedMs - (this.queuedSamples - n) / 8;
      try {
        const events = await this.detector.push(samples);
        this.onEvents(events, (ms) => receivedAt - (msAtPush - ms));
      } catch (err) {
        this.onError(err);
      } finally {
        this.queuedSamples -= n;
      }
    }
    this.loop = null;
  }
}

function concat(frames: Int16Array[], n: number): Int16Array {
  const out = new Int16Array(n);
  let off = 0;
  for (const f of frames) {
    out.set(f, off);
    off += f.length;
  }
  return out;
}
