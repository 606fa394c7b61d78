import type { CallingWindow, RetryOutcome, RetryPolicy } from '../domain/campaign';
import { nextWindowOpening } from './window';
import type { SettleContext } from '../db/dispatch';

/**
 * How a dial attempt ended, as the retry policy sees it: Twilio's terminal CallStatus (completed = a human
 * conversation), `voicemail` (completed with AnsweredBy machine_*), `opted-out` / `wrong-number` (never again),
 * `fax`, and `unknown` (the dialer crashed between calls.create and recording the answer: we cannot tell whether the
 * call happened; retried on the `failed` ladder after {@link UNKNOWN_SAFETY_DELAY_S}).
 */
export type DialOutcome = 'completed' | 'voicemail' | 'busy' | 'no-answer' | 'failed' | 'canceled' | 'opted-out' | 'wrong-number' | 'fax' | 'unknown';

/** Minimum delay (s) before re-dialing after an `unknown` attempt (a call might have rung then). */
export const UNKNOWN_SAFETY_DELAY_S = 900;

/** Final contact states a decision may end in. */
export type FinalDecision = 'done' | 'failed' | 'opted-out';

/** The retry ladder an outcome uses, or null when the outcome is never retried. */
export function ladderFor(outcome: DialOutcome): RetryOutcome | null {
  switch (outcome) {
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'noAnswer';
    case 'voicemail':
      return 'voicemail';
    case 'failed':
    case 'canceled':
    case 'unknown':
      return 'failed';
    default:
      return null;
  }
}

/** The final state when no retry follows: a conversation or a voicemail left → done; opt-out → opted-out; else failed. */
function finalFor(outcome: DialOutcome): FinalDecision {
  if (outcome === 'completed' || outcome === 'voicemail') return 'done';
  if (outcome === 'opted-out') return 'opted-out';
  return 'failed';
}

/**
 * Decides what follows an attempt (issue 11 item 3).
 * @param attemptsUsed attempts made so far, this one included (the shared budget: `policy.maxAttempts`).
 * @param retriesSoFarForOutcome earlier retries scheduled after this same ladder (the n-th retry uses entry n-1; the
 *   last entry repeats).
 * @returns `{ at }` — the next attempt's instant, pushed to the next opening of the window in every zone — or
 *   `{ final }` when the budget is spent, the ladder is empty, the outcome is never retried (completed, opted-out,
 *   wrong-number, fax) or the window never opens within the horizon.
 */
export function nextAttempt(
  policy: RetryPolicy,
  outcome: DialOutcome,
  attemptsUsed: number,
  retriesSoFarForOutcome: number,
  now: Date,
  window: CallingWindow,
  zones: readonly string[],
): { at: Date } | { final: FinalDecision } {
  const ladderName = ladderFor(outcome);
  if (!ladderName || attemptsUsed >= policy.maxAttempts) return { final: finalFor(outcome) };
  const ladder = policy.delaysSeconds[ladderName] ?? [];
  if (!ladder.length) return { final: finalFor(outcome) };
  let delayS = ladder[Math.min(Math.max(retriesSoFarForOutcome, 0), ladder.length - 1)];
  if (outcome === 'unknown') delayS = Math.max(delayS, UNKNOWN_SAFETY_DELAY_S);
  const at = nextWindowOpening(window, zones, new Date(now.getTime() + delayS * 1000));
  return at ? { at } : { final: finalFor(outcome) };
}

/**
 * The settle decision from a stored attempt's context (src/db/dispatch.ts `SettleContext`): counts the contact's
 * earlier attempts on the same ladder as `retriesSoFarForOutcome` and applies {@link nextAttempt}.
 */
export function decideRetry(ctx: SettleContext): { at: Date } | { final: FinalDecision } {
  const outcome = ctx.outcome as DialOutcome;
  const ladder = ladderFor(outcome);
  const retriesSoFar = ladder ? ctx.previousOutcomes.filter((o) => ladderFor(o as DialOutcome) === ladder).length : 0;
  return nextAttempt(ctx.retry, outcome, ctx.attemptsUsed, retriesSoFar, ctx.now, ctx.window, ctx.zones);
}
