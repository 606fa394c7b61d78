import { mulawToFloat32 } from './mulaw';

/** Lead time before the first queued audio starts (s), so chunks arriving a little late still play back to back. */
const START_LEAD_S = 0.06;

/**
 * Plays the agent's 8 kHz mu-law (Twilio Media Streams `media` payloads) gap-free on an AudioContext, and keeps
 * Twilio's playback semantics (twilio.com/docs/voice/media-streams/websocket-messages):
 * - audio is queued in arrival order and played back to back;
 * - a `mark` is echoed (its callback runs) once the audio queued before it has played;
 * - `clear` drops everything queued or playing (barge-in) and echoes every pending mark at once.
 */
export class MulawPlayer {
  private sources = new Set<AudioBufferSourceNode>();
  private playEnd = 0;
  private marks: { name: string; at: number; timer: ReturnType<typeof setTimeout>; echo: (name: string) => void }[] = [];
  /** Agent audio received (mu-law bytes = samples at 8 kHz). */
  receivedBytes = 0;

  constructor(private readonly ctx: AudioContext) {}

  /** Queues raw 8 kHz mu-law (any length) after what is already queued. */
  enqueue(mulaw: Uint8Array): void {
    if (mulaw.length === 0) return;
    this.receivedBytes += mulaw.length;
    const buf = this.ctx.createBuffer(1, mulaw.length, 8000);
    buf.copyToChannel(mulawToFloat32(mulaw), 0);
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.ctx.destination);
    const at = Math.max(this.playEnd, this.ctx.currentTime + START_LEAD_S);
    src.start(at);
    this.playEnd = at + buf.duration;
    this.sources.add(src);
    src.onended = () => this.sources.delete(src);
  }

  /** Calls `echo(name)` once the audio queued so far has played (at once when nothing is queued). */
  mark(name: string, echo: (name: string) => void): void {
    const at = this.playEnd;
    const delayMs = Math.max(0, (at - this.ctx.currentTime) * 1000);
    const entry = { name, at, echo, timer: setTimeout(() => this.fire(entry), delayMs) };
    this.marks.push(entry);
  }

  /** Drops queued and playing audio; echoes every pending mark now, in order. */
  clear(): void {
    this.stopSources();
    this.playEnd = 0;
    for (const m of [...this.marks]) {
      clearTimeout(m.timer);
      this.fire(m);
    }
  }

  /** Seconds of queued audio not yet played. */
  get queuedSeconds(): number {
    return Math.max(0, this.playEnd - this.ctx.currentTime);
  }

  /** Stops everything without echoing marks (the call is over). */
  dispose(): void {
    for (const m of this.marks) clearTimeout(m.timer);
    this.marks = [];
    this.stopSources();
  }

  private stopSources(): void {
    for (const s of this.sources) {
      s.onended = null;
      try {
        s.stop();
      } catch {
        // already stopped (or never started in some engines)
      }
    }
    this.sources.clear();
  }

  private fire(m: (typeof this.marks)[number]): void {
    const i = this.marks.indexOf(m);
    if (i < 0) return;
    this.marks.splice(i, 1);
    m.echo(m.name);
  }
}
