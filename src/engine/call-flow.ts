import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { CallControl } from '../telephony/call-control';
import type { CallAction } from './conversation';
import type { CALL_CONTROL_PHRASES } from './call-control-phrases';
import { SilenceMonitor } from './silence-monitor';

/** A warm transfer as stored on the call. */
export interface TransferRecord {
  target: string;
  reason: string;
  /** Short transcript of the call so far, for the human who picks up. */
  summary: string;
  at: string;
}

/** Call-control limits (ms); 0 disables a timer. */
export interface CallLimits {
  silenceRepromptMs: number;
  maxReprompts: number;
  maxCallDurationMs: number;
  /** End of caller speech → cached filler when the reply has no audio yet (ms); 0 disables. */
  deadAirMs: number;
}

/** What the call flow needs from its session. */
export interface CallFlowHost {
  readonly callSid: string;
  readonly log: Logger;
  /** Says one of the call-control phrases in the call's language and stores it as an agent turn. */
  sayPhrase(kind: keyof typeof CALL_CONTROL_PHRASES, signal: AbortSignal): Promise<void>;
  /** Queues work as the next turn (turns run one at a time). */
  runTurn(fn: (signal: AbortSignal) => Promise<void>): void;
  /** Stops the agent's current utterance and turn. */
  interrupt(reason: string): void;
  isEnded(): boolean;
  /** The last turns as text, for the human taking a transfer. */
  summary(): string;
  providerError(stage: string, err: unknown): void;
  /** Queues a store write (in order with the session's other writes). */
  write(fn: () => Promise<unknown>): void;
}

/** Dependencies of {@link CallFlow}. */
export interface CallFlowDeps {
  handoffNumber: string | null | undefined;
  callControl?: CallControl;
  metrics?: Metrics;
  store: {
    addEvent(callSid: string, type: string, payload?: Record<string, unknown>): Promise<void>;
    setTransfer(callSid: string, t: TransferRecord): Promise<void>;
    setEndReason(callSid: string, reason: string): Promise<void>;
  };
  limits: CallLimits;
}

/**
 * The call's control flow around the conversation: silence reprompts then a polite hangup, the time limit, and the
 * actions that end the conversation — a warm transfer (handoff line, then `<Dial>` through Twilio REST, stored with
 * target, reason and summary) or an end of call (goodbye, then hangup). Once the call is closing, `closing` says
 * why and the session ignores further caller input.
 */
export class CallFlow {
  private closingReason: string | null = null;
  private readonly silence: SilenceMonitor;
  private maxTimer: NodeJS.Timeout | null = null;

  constructor(private readonly host: CallFlowHost, private readonly d: CallFlowDeps) {
    this.silence = new SilenceMonitor(d.limits.silenceRepromptMs, (n) => this.onSilence(n));
  }

  /** Why the call is being closed (`transfer`, `silence`, `max_duration`, an end_call reason), or null. */
  get closing(): string | null {
    return this.closingReason;
  }

  /** Starts the call's time limit. */
  start(): void {
    if (this.d.limits.maxCallDurationMs <= 0) return;
    this.maxTimer = setTimeout(() => this.onMaxDuration(), this.d.limits.maxCallDurationMs);
    this.maxTimer.unref();
  }

  /** The agent finished talking: start timing the caller's silence. */
  awaitCaller(): void {
    if (!this.closingReason) this.silence.arm();
  }

  /** The agent is about to talk: do not time silence meanwhile. */
  agentTalking(): void {
    this.silence.disarm();
  }

  /** The caller did something (speech onset, DTMF): reset the reprompt count. */
  callerActivity(): void {
    this.silence.activity();
  }

  /** Stops the timers (the call ended). */
  stop(): void {
    this.silence.disarm();
    if (this.maxTimer) clearTimeout(this.maxTimer);
  }

  /** Performs a transfer or an end of call, after the reply that led to it has been spoken (`alreadySpoke`). */
  async perform(action: CallAction, signal: AbortSignal, alreadySpoke: boolean): Promise<void> {
    const { host, d } = this;
    if (action.type === 'end_call') {
      if (!alreadySpoke) await host.sayPhrase('goodbye', signal);
      if (!signal.aborted) await this.hangup(action.reason);
      return;
    }
    const target = d.handoffNumber;
    if (!target || !d.callControl) {
      await host.sayPhrase('noHandoff', signal);
      if (!signal.aborted) this.awaitCaller();
      return;
    }
    if (!alreadySpoke) await host.sayPhrase('handoff', signal);
    if (signal.aborted) return;
    this.closingReason = 'transfer';
    const record: TransferRecord = { target, reason: action.reason, summary: host.summary(), at: new Date().toISOString() };
    try {
      await d.callControl.transfer(host.callSid, target);
      d.metrics?.callControl.inc({ action: 'transfer' });
      host.log.info({ reason: action.reason }, 'call transferred');
      host.write(() => d.store.setTransfer(host.callSid, record));
      host.write(() => d.store.addEvent(host.callSid, 'transfer', { target, reason: action.reason }));
    } catch (err) {
      this.closingReason = null;
      host.providerError('transfer', err);
      await host.sayPhrase('noHandoff', signal);
      if (!signal.aborted) this.awaitCaller();
    }
  }

  /** Ends the call from our side (Twilio REST); the stream's `stop` then ends the session. */
  private async hangup(reason: string): Promise<void> {
    const { host, d } = this;
    this.closingReason = reason;
    d.metrics?.callControl.inc({ action: 'hangup' });
    host.write(() => d.store.setEndReason(host.callSid, reason));
    host.write(() => d.store.addEvent(host.callSid, 'hangup', { reason }));
    if (!d.callControl) return;
    try {
      await d.callControl.hangup(host.callSid);
    } catch (err) {
      host.providerError('hangup', err);
    }
  }

  private onSilence(n: number): void {
    if (this.host.isEnded() || this.closingReason) return;
    const last = n > this.d.limits.maxReprompts;
    this.d.metrics?.callControl.inc({ action: last ? 'silence_hangup' : 'reprompt' });
    this.host.runTurn(async (signal) => {
      await this.host.sayPhrase(last ? 'goodbyeSilence' : 'reprompt', signal);
      if (signal.aborted) return;
      if (last) await this.hangup('silence');
      else this.awaitCaller();
    });
  }

  private onMaxDuration(): void {
    if (this.host.isEnded() || this.closingReason) return;
    this.host.log.info({ maxCallDurationMs: this.d.limits.maxCallDurationMs }, 'call time limit reached');
    this.closingReason = 'max_duration';
    this.silence.disarm();
    this.host.interrupt('max_duration');
    this.host.runTurn(async (signal) => {
      await this.host.sayPhrase('maxDuration', signal);
      if (!signal.aborted) await this.hangup('max_duration');
    });
  }
}

