import { SilenceMonitor } from './silence-monitor';

/** Call-control limits (ms); 0 disables a timer. */
export interface CallLimits {
  silenceRepromptMs: number;
  maxReprompts: number;
  maxCallDurationMs: number;
  /** End of caller speech → cached filler when the reply has no audio yet (ms); 0 disables. */
  deadAirMs: number;
  /**
   * A caller turn whose every transcript reports a confidence below this (0..1) was not understood: it is stored
   * flagged and answered with the cached "not understood" offer of a person, not sent to the LLM. 0 disables.
   */
  minSttConfidence: number;
}

/** A call timer fired: the `n`-th silence in a row, or the call's time limit. */
export type TimerEvent = { type: 'silence'; n: number } | { type: 'max_duration' };

/**
 * The call's two timers: the caller's silence after the agent finished talking ({@link SilenceMonitor}) and the
 * call's time limit. They only report ({@link TimerEvent} to `onTimer`); what to do is the session's plan. Timers are
 * unref'd and stopped by {@link stop}.
 */
export class CallTimers {
  private readonly silence: SilenceMonitor;
  private maxTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: CallLimits,
    private readonly onTimer: (ev: TimerEvent) => void,
  ) {
    this.silence = new SilenceMonitor(limits.silenceRepromptMs, (n) => onTimer({ type: 'silence', n }));
  }

  /** Starts the call's time limit. */
  start(): void {
    if (this.limits.maxCallDurationMs <= 0) return;
    this.maxTimer = setTimeout(() => this.onTimer({ type: 'max_duration' }), this.limits.maxCallDurationMs);
    this.maxTimer.unref?.();
  }

  /** The agent finished talking: time the caller's silence. */
  awaitCaller(): void {
    this.silence.arm();
  }

  /** The agent is about to talk: do not time silence meanwhile. */
  agentTalking(): void {
    this.silence.disarm();
  }

  /** The caller did something (speech onset, DTMF): reset the reprompt count. */
  callerActivity(): void {
    this.silence.activity();
  }

  /** Stops both timers. */
  stop(): void {
    this.silence.disarm();
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.maxTimer = null;
  }
}
