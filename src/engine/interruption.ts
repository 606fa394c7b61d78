import type { Playout } from './playout';
import type { TurnQueue } from './turn-queue';
import type { TurnEvent } from './turn-detector';

type Ev<T extends TurnEvent['type']> = Extract<TurnEvent, { type: T }>;

/**
 * The one owner of interruptions: it alone pauses, resumes and stops the agent's playout, and aborts the running
 * turn when the caller takes the floor.
 *
 * - `speech_onset` while the agent's audio plays: pause at once (`clear`), remembering which speech paused it.
 * - `barge_in` (the speech reached the barge-in minimum) while the agent talks or a reply is being prepared: stop the
 *   audio for good and abort the running turn; a reply that had not started speaking keeps its caller input pending
 *   (see CallerInput), so it is answered together with what the caller is saying now.
 * - `backchannel` (shorter speech ended) that paused the agent: resume where the caller stopped hearing it; that
 *   utterance is then not a turn to answer ({@link wasBackchannel}).
 * While the call is closing (goodbye, transfer) nothing interrupts the agent.
 *
 * With `bargeIn` false (the agent's `endpointing.bargeIn`) the caller's speech never pauses nor interrupts the agent:
 * speech that began while the agent was talking is told apart the same way — a short one is a backchannel, kept and
 * not answered; a longer one is kept and answered after the reply (see CallerInput) — but the audio plays on.
 * DTMF actions, the time limit and hangups ({@link interrupt}) still stop the agent.
 */
export class InterruptionController {
  /** Start of the caller speech that began over the agent (and paused it, when barge-in is on). */
  private pausedBy: number | null = null;
  private backchannel: { startMs: number; bargedIn: boolean } | null = null;

  constructor(
    private readonly playout: Playout,
    private readonly turns: TurnQueue,
    private readonly closing: () => boolean,
    private readonly bargeInEnabled = true,
  ) {}

  /** @returns true when the agent's audio was paused. */
  speechOnset(ev: Ev<'speech_onset'>): boolean {
    if (!this.playout.speaking || this.playout.paused || this.closing()) return false;
    if (!this.bargeInEnabled) {
      this.pausedBy = ev.speechStartMs; // heard over the agent, which talks on
      return false;
    }
    if (!this.playout.pause()) return false;
    this.pausedBy = ev.speechStartMs;
    return true;
  }

  /** @returns true when the agent was interrupted (the caller of this records the barge-in). */
  bargeIn(ev: Ev<'barge_in'>): boolean {
    if (this.backchannel?.startMs === ev.speechStartMs) this.backchannel.bargedIn = true;
    if (!this.bargeInEnabled) {
      if (this.pausedBy === ev.speechStartMs) this.pausedBy = null; // not a backchannel: answered after the reply
      return false;
    }
    if (this.closing()) return false;
    const busy = this.playout.paused || this.playout.speaking || this.turns.running === 'answer' || this.turns.running === 'say';
    if (!busy) return false;
    this.interrupt('barge-in');
    return true;
  }

  /** @returns true when the agent resumed (without barge-in: when the backchannel was heard over the agent). */
  backchannelEnded(ev: Ev<'backchannel'>): boolean {
    if (!this.bargeInEnabled) {
      if (this.pausedBy !== ev.speechStartMs) return false;
      this.pausedBy = null;
      this.backchannel = { startMs: ev.speechStartMs, bargedIn: false };
      return true;
    }
    if (!this.playout.paused || this.pausedBy !== ev.speechStartMs) return false;
    this.pausedBy = null;
    this.backchannel = { startMs: ev.speechStartMs, bargedIn: false };
    this.playout.resume();
    return true;
  }

  /** Whether `u` is the "mm-hm" that paused the agent and let it resume (kept in the transcript, not answered). */
  wasBackchannel(u: { startMs: number }): boolean {
    return this.backchannel?.startMs === u.startMs && !this.backchannel.bargedIn;
  }

  /**
   * Stops whatever the agent is doing (barge-in, DTMF action, time limit, hangup): audio cleared, running turn
   * aborted. The playout is stopped first, so the aborted turn reads what the caller heard up to this moment.
   */
  interrupt(reason: string): void {
    this.playout.stop();
    this.pausedBy = null;
    this.turns.abortCurrent(reason);
  }
}
