import type { Logger } from 'pino';
import type { CallControl } from '../domain/ports';
import type { Metrics } from '../metrics/metrics';
import type { CallRecorder } from './recorder';

/**
 * Call control over Twilio REST for one call: a warm transfer (`<Dial>` to the handoff number, stored with target,
 * reason and a transcript summary) and a hangup. Each returns whether it happened; failures are reported through
 * `onError` (recorded as provider errors) and never thrown. Once an action succeeded the call is `closing` (the
 * session ignores further caller input; Twilio's `stop` ends it).
 */
export class CallActions {
  private closingReason: string | null = null;

  constructor(
    private readonly d: {
      callSid: string;
      handoffNumber: string | null | undefined;
      callControl?: CallControl;
      recorder: CallRecorder;
      metrics?: Metrics;
      log: Logger;
      onError: (stage: string, err: unknown) => void;
    },
  ) {}

  /** Why the call is being closed (`transfer`, `silence`, `max_duration`, an end-of-call reason), or null. */
  get closing(): string | null {
    return this.closingReason;
  }

  /** Whether a transfer can be attempted (a handoff number and call control exist). */
  get canTransfer(): boolean {
    return !!this.d.handoffNumber && !!this.d.callControl;
  }

  /** Marks the call as closing now (a goodbye is about to be said), so caller input no longer interrupts it. */
  beginClosing(reason: string): void {
    this.closingReason ??= reason;
  }

  /**
   * Redirects the call to `target` (E.164; default the agent's handoff number).
   * @returns false when impossible or Twilio refused (the call goes on).
   */
  async transfer(reason: string, summary: string, target: string | null | undefined = this.d.handoffNumber): Promise<boolean> {
    const { d } = this;
    if (!target || !d.callControl) return false;
    this.closingReason = 'transfer';
    try {
      await d.callControl.transfer(d.callSid, target);
    } catch (err) {
      this.closingReason = null; // the call goes on: the caller may talk again
      d.onError('transfer', err);
      return false;
    }
    d.metrics?.callControl.inc({ action: 'transfer' });
    d.log.info({ reason }, 'call transferred');
    d.recorder.transfer({ target, reason, summary, at: new Date().toISOString() });
    d.recorder.event('transfer', { target, reason });
    return true;
  }

  /** Ends the call from our side; the stream's `stop` then ends the session. Recorded even without call control. */
  async hangup(reason: string): Promise<boolean> {
    const { d } = this;
    this.closingReason = reason;
    d.metrics?.callControl.inc({ action: 'hangup' });
    d.recorder.endReason(reason);
    d.recorder.event('hangup', { reason });
    if (!d.callControl) return false;
    try {
      await d.callControl.hangup(d.callSid);
      return true;
    } catch (err) {
      d.onError('hangup', err);
      return false;
    }
  }
}
