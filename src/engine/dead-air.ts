import type { AudioChunk } from '../providers/types';
import { systemClock, type Clock } from './clock';

/**
 * Dead-air guard of one agent turn: at `deadlineWall` (on the session's clock, ms), if the reply has produced no audio
 * yet, the caller hears a short cached filler ("One moment, please.") instead of more silence. The filler goes out
 * either at once (nothing is being synthesized yet: STT or the LLM is slow — `playNow`) or, when the first segment
 * is already waiting on TTS, as the first chunk of that segment ({@link DeadAirGuard.guardFirstChunk}).
 */
export class DeadAirGuard {
  /** True once the filler was sent (or handed to a segment). */
  used = false;
  /** True once the reply's own audio started (the guard is then inert). */
  audioStarted = false;
  /** True while the first reply segment is waiting on TTS. */
  inSegment = false;
  /** The directly played filler, awaited before the first reply segment starts. */
  playing: Promise<unknown> | null = null;
  private readonly due: Promise<void>;
  private timer: NodeJS.Timeout;

  /**
   * @param filler 8 kHz mu-law bytes of the filler.
   * @param playNow plays the filler as its own segment (called from the timer when no segment is in progress).
   * @param clock the clock `deadlineWall` is on (ms).
   */
  constructor(deadlineWall: number, private readonly filler: Uint8Array, playNow: () => Promise<unknown>, clock: Clock = systemClock) {
    let resolve!: () => void;
    this.due = new Promise<void>((r) => (resolve = r));
    this.timer = setTimeout(() => {
      resolve();
      if (this.audioStarted || this.used || this.inSegment) return;
      this.used = true;
      this.playing = playNow();
    }, Math.max(0, deadlineWall - clock.now()));
    this.timer.unref();
  }

  /** Stops the timer (reply audio started, or the turn ended). */
  cancel(): void {
    clearTimeout(this.timer);
  }

  /**
   * Wraps the first reply segment's TTS stream: if the deadline passes before its first chunk, the filler is
   * yielded first (as part of that segment), then the TTS audio.
   */
  async *guardFirstChunk(audio: AsyncIterable<AudioChunk>): AsyncGenerator<AudioChunk> {
    const it = audio[Symbol.asyncIterator]();
    const first = it.next();
    first.catch(() => undefined); // handled below; avoids an unhandled rejection while racing
    const raced = await Promise.race([first, this.due.then(() => 'due' as const)]);
    if (raced === 'due' && !this.used && !this.audioStarted) {
      this.used = true;
      yield { encoding: 'mulaw', sampleRate: 8000, data: this.filler };
    }
    const r = await first;
    if (r.done) return;
    yield r.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
}
