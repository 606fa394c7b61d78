/**
 * Silence reprompts: once armed (the agent finished talking), fires `onSilence(n)` after `timeoutMs` without caller
 * activity, with n = 1, 2, … counting consecutive silences; caller activity (`activity()`) disarms it and resets
 * the count. The engine reprompts for n ≤ maxReprompts and hangs up after that. `timeoutMs = 0` disables it.
 * Timers are unref'd so a monitor never keeps the process alive.
 */
export class SilenceMonitor {
  private timer: NodeJS.Timeout | null = null;
  private count = 0;

  constructor(private readonly timeoutMs: number, private readonly onSilence: (n: number) => void) {}

  /** Starts (or restarts) the silence timer. */
  arm(): void {
    this.disarm();
    if (this.timeoutMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onSilence(++this.count);
    }, this.timeoutMs);
    this.timer.unref();
  }

  /** Stops the timer without resetting the count (the agent is talking). */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The caller did something (speech, DTMF): stop the timer and reset the count. */
  activity(): void {
    this.disarm();
    this.count = 0;
  }
}
