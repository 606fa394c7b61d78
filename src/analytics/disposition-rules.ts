import type { CallFacts } from '../domain/call-analysis';
import type { Disposition } from '../domain/disposition';

/**
 * The disposition facts of a call (issue 13 §4): what its recorded status and events prove, never what a model
 * thinks. Order of precedence (first match wins):
 * 1. Twilio status: `no-answer` → no_answer, `busy` → busy, `failed` / `canceled` → failed (never connected).
 * 2. A machine answered: a `voicemail` event, or AMD `AnsweredBy` machine_* → voicemail.
 * 3. An `opt_out` event → opted_out.
 * 4. A warm transfer (the stored transfer record or a `transfer` event) → transferred.
 * 5. A `callback` event that booked one (schedule_callback; payload `booked: true`) → callback_booked. A callback the
 *    callee asked for that could not be booked (`booked: false`: a single call, or a final contact) is not a booking.
 * 6. The caller never said anything (no caller turn with words) → abandoned.
 * Otherwise the call was a conversation and null is returned: resolved / unresolved / wrong_number are decided from
 * its transcript (by the LLM, or {@link conversationOutcome} offline). This is the one rule set: the stored analysis
 * (src/analytics/call-analysis.ts) and the CRM activity of a call not analysed (src/crm/activity.ts) both use it.
 */
export function factualDisposition(f: Pick<CallFacts, 'status' | 'events' | 'transfer' | 'answeredBy' | 'turns'>): Disposition | null {
  if (f.status === 'no-answer') return 'no_answer';
  if (f.status === 'busy') return 'busy';
  if (f.status === 'failed' || f.status === 'canceled') return 'failed';
  const has = (type: string, p?: (payload: Record<string, unknown>) => boolean) => f.events.some((e) => e.type === type && (!p || p(e.payload ?? {})));
  if (has('voicemail') || /^machine_/.test(f.answeredBy ?? '')) return 'voicemail';
  if (has('opt_out')) return 'opted_out';
  if (f.transfer || has('transfer')) return 'transferred';
  if (has('callback', (p) => p.booked === true)) return 'callback_booked';
  if (!f.turns.some((t) => t.role === 'caller' && /\p{L}/u.test(t.text))) return 'abandoned';
  return null;
}

const WRONG_NUMBER = /\b(wrong number|no one (here )?(by|with) that name|nobody (here )?(by|with) that name|you have the wrong|you've got the wrong|there(?:'s| is) no \w+ here|doesn'?t live here|n[uú]mero equivocado|mauvais num[eé]ro|falsch verbunden)\b/i;
const SATISFIED = /\b(thanks?|thank you|that helps|that helped|perfect|great|awesome|got it|that'?s all|that'?s everything|sounds good|all set|appreciate it|gracias|merci|danke)\b/i;
const DISSATISFIED = /\b(not helpful|doesn'?t help|didn'?t help|useless|that'?s not what i (asked|said|meant)|you'?re not listening|still (don'?t|doesn'?t|not|can'?t)|never mind|forget it|this is ridiculous|frustrat\w*|(speak|talk) (to|with) (a |an )?(human|person|agent|manager|representative))\b/i;
const AGENT_FAILED = /\b(i (don'?t|do not) know|i'?m not sure|i (can'?t|cannot) (help|find|answer)|didn'?t catch that|i don'?t have (that|any) information|sorry, something went wrong)\b/i;

/**
 * Offline outcome of a conversation: `wrong_number` when the callee says so; else `resolved` when the caller's last
 * words sound satisfied ("thanks, that helps") and the agent did not end on a failure line, `unresolved` when the
 * caller sounds dissatisfied, asked for a person, or the agent's last answer admitted it could not help; with no cue
 * either way, `resolved` when the agent answered the caller's last turn, else `unresolved`.
 */
export function conversationOutcome(turns: CallFacts['turns']): 'resolved' | 'unresolved' | 'wrong_number' {
  const caller = turns.filter((t) => t.role === 'caller');
  if (caller.some((t) => WRONG_NUMBER.test(t.text))) return 'wrong_number';
  const lastCaller = caller.slice(-2).map((t) => t.text).join(' ');
  const lastCallerIdx = turns.map((t) => t.role).lastIndexOf('caller');
  const agentAfter = turns.slice(lastCallerIdx + 1).filter((t) => t.role === 'agent');
  const agentBefore = turns.slice(0, lastCallerIdx).filter((t) => t.role === 'agent').slice(-1);
  const lastAgent = [...agentBefore, ...agentAfter].map((t) => t.text).join(' ');
  if (DISSATISFIED.test(lastCaller)) return 'unresolved';
  if (SATISFIED.test(lastCaller)) return AGENT_FAILED.test(agentAfter.map((t) => t.text).join(' ')) ? 'unresolved' : 'resolved';
  if (AGENT_FAILED.test(lastAgent)) return 'unresolved';
  return agentAfter.length > 0 ? 'resolved' : 'unresolved';
}

/**
 * The disposition of a call from its records alone: {@link factualDisposition}, else the offline
 * {@link conversationOutcome} of its transcript. What the local analyzer stores, and what a CRM activity carries when
 * the call has no (valid) stored analysis.
 */
export function localDisposition(f: Pick<CallFacts, 'status' | 'events' | 'transfer' | 'answeredBy' | 'turns'>): Disposition {
  return factualDisposition(f) ?? conversationOutcome(f.turns);
}
