import type { Disposition } from '../domain/disposition';

/**
 * Offline summaries built from a transcript (no model): a few sentences for post-call analysis and one short
 * spoken line for the human taking a warm transfer. Pure and fast (a regex pass over the turns: well under 1 ms for
 * a normal call), so the live transfer path can use it.
 */

type Turn = { role: 'caller' | 'agent'; text: string };

/** Fillers and greetings that say nothing about why someone called. */
const SMALL_TALK = /^(hi|hello|hey|yes|yeah|yep|no|nope|ok(ay)?|um+|uh+|mm-?hm+|hm+|sure|thanks?|thank you|good (morning|afternoon|evening)|bye|goodbye)[\s,.!?]*$/i;

const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Cuts `s` at a word boundary to at most `max` characters, adding "…" when cut. */
export function clip(s: string, max: number): string {
  const t = clean(s);
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const sp = cut.lastIndexOf(' ');
  return `${(sp > max / 2 ? cut.slice(0, sp) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

/** The caller's main request: the first caller turn that is more than small talk (else the first caller turn). */
export function mainRequest(turns: readonly Turn[]): string | null {
  const caller = turns.filter((t) => t.role === 'caller' && clean(t.text));
  const main = caller.find((t) => !SMALL_TALK.test(clean(t.text)) && clean(t.text).split(' ').length >= 3) ?? caller[0];
  return main ? clean(main.text) : null;
}

const OUTCOME_TEXT: Record<Disposition, string> = {
  resolved: 'The request was handled.',
  unresolved: 'The request was not resolved.',
  transferred: 'The call was transferred to a person.',
  voicemail: 'An answering machine took the call.',
  no_answer: 'Nobody answered.',
  busy: 'The line was busy.',
  failed: 'The call could not be connected.',
  opted_out: 'The caller asked not to be called again.',
  callback_booked: 'A callback was scheduled.',
  wrong_number: 'It was a wrong number.',
  abandoned: 'The caller hung up before saying anything.',
};

/**
 * A post-call summary of a few sentences: the caller's main request ({@link mainRequest}), the agent's last answer,
 * and the outcome of `disposition`, e.g. `Caller: "Where is my order A-12345?" Agent: "It ships tomorrow." The
 * request was handled.` Calls without a conversation get the outcome sentence only. At most ~400 characters.
 */
export function localSummary(turns: readonly Turn[], disposition: Disposition): string {
  const request = mainRequest(turns);
  const lastAgent = [...turns].reverse().find((t) => t.role === 'agent' && clean(t.text));
  const parts: string[] = [];
  if (request) parts.push(`Caller: "${clip(request, 160)}"`);
  if (request && lastAgent) parts.push(`Agent: "${clip(lastAgent.text, 160)}"`);
  parts.push(OUTCOME_TEXT[disposition]);
  return parts.join(' ');
}

/**
 * The line the human hears before a warm transfer is bridged (spoken by `<Say>`), e.g. "Transferred call. The
 * caller asked: where is my order A-12345. Last words: I want to talk to a person. Reason: caller asked for a
 * person." At most `max` characters (default 300, about 20 s of speech). No quotes or markup (it is spoken).
 */
export function spokenTransferSummary(turns: readonly Turn[], reason?: string, max = 300): string {
  const request = mainRequest(turns);
  const lastCaller = [...turns].reverse().find((t) => t.role === 'caller' && clean(t.text));
  const speakable = (s: string) => clean(s).replace(/["<>&]/g, '').replace(/[.?!]+$/, '');
  const parts = ['Transferred call.'];
  if (request) parts.push(`The caller asked: ${speakable(clip(request, 140))}.`);
  if (lastCaller && clean(lastCaller.text) !== request) parts.push(`Last words: ${speakable(clip(lastCaller.text, 100))}.`);
  if (reason) parts.push(`Reason: ${speakable(reason.replace(/_/g, ' '))}.`);
  if (!request) parts.push('The caller has not said anything yet.');
  return clip(parts.join(' '), max);
}
