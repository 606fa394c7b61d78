/**
 * The caller's stated CSAT (issue 13 §5): the end-of-call survey (src/engine/csat-survey.ts) records it as a call
 * event, the csat post-call step copies it to `call_csat.stated_score` beside the predicted score.
 */

/** Call event holding the caller's stated score: `{ score: 1..5, via: 'dtmf' | 'speech', atMs }`. */
export const CSAT_STATED_EVENT = 'csat.stated';
/** Call event of a survey that ended without a score: `{ reason: 'timeout' | 'invalid' | 'ended' }`. */
export const CSAT_UNANSWERED_EVENT = 'csat.unanswered';

/**
 * The stated score among a call's events: the last {@link CSAT_STATED_EVENT} whose `payload.score` is an integer
 * 1..5, with the event's time; null when there is none.
 */
export function statedScoreOf(events: ReadonlyArray<{ type: string; payload: Record<string, unknown> | null; at: Date | string }>): { score: number; at: Date } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    const score = e.type === CSAT_STATED_EVENT ? e.payload?.score : undefined;
    if (typeof score === 'number' && Number.isInteger(score) && score >= 1 && score <= 5) return { score, at: new Date(e.at) };
  }
  return null;
}
