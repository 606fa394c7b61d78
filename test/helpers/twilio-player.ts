import type { MediaTransport } from '../../src/domain/ports';

export interface WireItem {
  kind: 'media' | 'mark' | 'clear';
  bytes?: number;
  name?: string;
  at: number;
}

/**
 * Test stand-in for Twilio's side of a media stream: buffers the mu-law we send and "plays" it in real time
 * (× `speed`), echoing each mark when the audio before it has played, and on `clear` drops the buffer and echoes the
 * pending marks at once — the behaviour documented for Media Streams. Everything sent is recorded in `out`.
 */
export class FakeTwilioPlayer implements MediaTransport {
  readonly out: WireItem[] = [];
  private queue: Array<{ bytes: number } | { mark: string }> = [];
  private timer: NodeJS.Timeout | null = null;
  private last = performance.now();
  private onMark: (name: string) => void = () => undefined;

  constructor(private readonly speed = 1) {}

  /** Where echoed marks go (the session's onMark). */
  attach(onMark: (name: string) => void): void {
    this.onMark = onMark;
  }

  sendMedia(m: Uint8Array): void {
    this.out.push({ kind: 'media', bytes: m.length, at: performance.now() });
    this.queue.push({ bytes: m.length });
    this.tick();
  }

  sendMark(name: string): void {
    this.out.push({ kind: 'mark', name, at: performance.now() });
    this.queue.push({ mark: name });
    this.tick();
  }

  sendClear(): void {
    this.out.push({ kind: 'clear', at: performance.now() });
    const marks = this.queue.filter((q): q is { mark: string } => 'mark' in q).map((q) => q.mark);
    this.queue = [];
    setImmediate(() => marks.forEach((m) => this.onMark(m)));
  }

  /** Stops playing (call at the end of a test). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }

  private tick(): void {
    if (this.timer) return;
    this.last = performance.now();
    const step = () => {
      const now = performance.now();
      let budget = (now - this.last) * 8 * this.speed;
      this.last = now;
      while (this.queue.length) {
        const q = this.queue[0];
        if ('mark' in q) {
          this.queue.shift();
          this.onMark(q.mark);
          continue;
        }
        if (budget <= 0) break;
        const used = Math.min(budget, q.bytes);
        q.bytes -= used;
        budget -= used;
        if (q.bytes <= 0) this.queue.shift();
      }
      this.timer = this.queue.length ? setTimeout(step, 5) : null;
    };
    this.timer = setTimeout(step, 5);
  }
}
