import type { CallAction } from '../domain/calls';
import type { PhraseKind } from './call-control-phrases';

/**
 * One step of call control, as data: the session runs the steps of a plan in order (one turn), so what call control
 * decides is testable without a call.
 * - `say`: one of the call-control phrases, in the call's language, stored as an agent turn;
 * - `listen`: the agent is done: time the caller's silence (reprompt timer);
 * - `transfer` / `hangup`: over Twilio REST (the call is then closing); a transfer goes to `target` (E.164) when set,
 *   else to the agent's handoff number;
 * - `survey`: the end-of-call CSAT survey (prompt, one key 1–5, thanks or goodbye; see CsatSurvey), before the hangup;
 * - `close`: from here on the caller's speech no longer interrupts the agent (it is kept, not answered): the agent
 *   decided to transfer or end the call. A silence goodbye has none, so a caller who comes back is still heard.
 */
export type CallStep =
  | { type: 'close'; reason: string }
  | { type: 'say'; phrase: PhraseKind }
  | { type: 'listen' }
  | { type: 'survey' }
  | { type: 'transfer'; reason: string; target?: string }
  | { type: 'hangup'; reason: string };

const say = (phrase: PhraseKind): CallStep => ({ type: 'say', phrase });
const LISTEN: CallStep = { type: 'listen' };

/**
 * What to do for a transfer or an end of call: the handoff or goodbye line (unless the reply that led to it was
 * already spoken, `alreadySpoke`), then the REST action. A transfer without a handoff number (or without call
 * control) says so and keeps listening. `survey`: an end of call runs the CSAT survey instead of the goodbye line
 * (the survey ends with its own thanks or goodbye); ignored for a transfer.
 */
export function planAction(action: CallAction, o: { alreadySpoke: boolean; canTransfer: boolean; survey?: boolean }): CallStep[] {
  const close: CallStep = { type: 'close', reason: action.type === 'transfer' ? 'transfer' : action.reason };
  if (action.type === 'end_call' && o.survey) return [close, { type: 'survey' }, { type: 'hangup', reason: action.reason }];
  if (action.type === 'end_call') return [close, ...(o.alreadySpoke ? [] : [say('goodbye')]), { type: 'hangup', reason: action.reason }];
  if (!o.canTransfer) return [say('noHandoff'), LISTEN];
  return [close, ...(o.alreadySpoke ? [] : [say('handoff')]), { type: 'transfer', reason: action.reason }];
}

/** After a transfer that Twilio refused: say no one is available and keep helping. */
export const TRANSFER_FAILED: CallStep[] = [say('noHandoff'), LISTEN];

/** The `n`-th silence in a row (1-based): a reprompt, or after `maxReprompts` of them a goodbye and a hangup. */
export function planSilence(n: number, maxReprompts: number): CallStep[] {
  return n > maxReprompts ? [say('goodbyeSilence'), { type: 'hangup', reason: 'silence' }] : [say('reprompt'), LISTEN];
}

/** The call's time limit: a goodbye, then a hangup. */
export const MAX_DURATION_PLAN: CallStep[] = [{ type: 'close', reason: 'max_duration' }, say('maxDuration'), { type: 'hangup', reason: 'max_duration' }];

/** A supervisor's transfer to `target` (E.164): the handoff line, then the redirect (no handoff number needed). */
export function planTransferTo(target: string, reason: string): CallStep[] {
  return [{ type: 'close', reason: 'transfer' }, say('handoff'), { type: 'transfer', reason, target }];
}
