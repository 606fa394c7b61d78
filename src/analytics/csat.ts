import Sentiment from 'sentiment';
import type { SummaryTurn } from './transcript';

/**
 * Heuristic CSAT (customer satisfaction, 1..5) from a finished call — pure, no I/O.
 *
 * Formula `heuristic-v1` (every term is in `details.components`):
 *
 *   raw = 3
 *       + 1.5 × S            S = AFINN-165 comparative sentiment of the caller's words, clamped to [-1, 1]:
 *                              Σ score / Σ tokens over caller turns in English (or untagged) — the `sentiment` npm
 *                              package (AFINN-165 word list, English only; other languages count as neutral)
 *       + 1.0 × (A − 0.5)    A = share of agent answers that were not fallback replies (answers = agent turns after
 *                              the caller first spoke, so the greeting does not count); term is 0 with no answers
 *       − 0.5 × min(2, F − 1)  F = longest run of consecutive fallback replies (F ≥ 2 means the agent kept failing)
 *       − 0.75 if a handoff to a human was requested (caller intent, caller words, or a handoff/transfer call event)
 *       + 0.5  if the caller said thanks/goodbye in one of their last two turns (a polite close)
 *       − 0.5  if the call lasted under 15 s (abandoned), − 0.25 if over 10 min (long calls rate lower)
 *   score = clamp(round(raw), 1, 5)
 *
 * Weights are hand-set, not fitted: treat the score as a triage signal until survey data exists to calibrate it.
 */

export const CSAT_METHOD = 'heuristic-v1:afinn-sentiment+resolution';

export interface CsatInput {
  /** The call's turns in order. */
  turns: readonly SummaryTurn[];
  /** Call length (ms); defaults to the span of the turns. */
  durationMs?: number | null;
  /** Call event types (e.g. 'handoff.requested', 'call.transfer'); any containing handoff/transfer counts as a handoff. */
  eventTypes?: readonly string[];
}

export interface CsatComponents {
  base: number;
  sentiment: number;
  resolution: number;
  repeatedFallbacks: number;
  handoff: number;
  closingCourtesy: number;
  callLength: number;
}

export interface CsatDetails {
  /** AFINN comparative score (Σ score / Σ tokens), clamped to [-1, 1]. */
  sentiment: number;
  sentimentTokens: number;
  sentimentTurns: number;
  agentAnswers: number;
  fallbackReplies: number;
  /** Non-fallback share of agent answers, or null without answers. */
  answeredRatio: number | null;
  maxConsecutiveFallbacks: number;
  handoffRequested: boolean;
  closingCourtesy: boolean;
  durationMs: number;
  raw: number;
  components: CsatComponents;
}

export interface CsatResult {
  /** Integer 1..5. */
  score: number;
  method: string;
  details: CsatDetails;
}

/** Agent replies that admit not understanding/knowing (en, es, fr, de, pt). Matched case-insensitively. */
export const FALLBACK_PATTERNS: readonly RegExp[] = [
  /\b(didn'?t|did not|couldn'?t|could not) (quite )?(catch|understand|hear|get) (that|you|what)/i,
  /\b(i'?m|i am) (not sure i (understood|follow)|afraid i (don'?t|do not) (know|have))/i,
  /\bi (don'?t|do not) (know|have (that|this|any|the) (information|answer|details))/i,
  /\b(could|can|would) you (please )?(repeat|rephrase|say that again)/i,
  /\bi (can'?t|cannot|could not|couldn'?t) (find|help with) (that|this|an answer)/i,
  /\bno (te |le )?(he )?(entend[ií]|comprend[ií])|\bno (lo )?s[eé]\b|\b(puede|podr[ií]a)s? repetir/i,
  /\bje n'ai pas (bien )?compris|\bpouvez-vous r[ée]p[ée]ter|\bje ne sais pas\b/i,
  /\bnicht verstanden|\bwiederholen sie|\bweiß (ich )?nicht\b/i,
  /\bn[ãa]o entendi|\bpode repetir/i,
];

const HANDOFF_INTENT = /handoff|human|agent|operator|transfer|escalat|representative/i;
const HANDOFF_TEXT =
  /\b(speak|talk|connect me|put me through)( to| with)? (a |an |the |to a |to an |with a )?(real )?(human|person|agent|representative|operator|someone|manager|supervisor)\b|\bhablar con (un|una) (persona|agente|humano)|\bparler (à|a) (un|une) (humain|personne|conseiller)|\bmit (einem|einer) (menschen|mitarbeiter)/i;
const HANDOFF_EVENT = /handoff|transfer/i;
const COURTESY =
  /\b(thanks?|thank you|thx|cheers|bye|goodbye|have a (good|nice|great) (day|one)|gracias|adi[oó]s|merci|au revoir|danke|tsch(ü|ue)ss|obrigad[oa]|grazie|arrivederci)\b/i;

const SHORT_CALL_MS = 15_000;
const LONG_CALL_MS = 10 * 60_000;

const analyzer = new Sentiment();

/**
 * True when an agent turn is a fallback reply: the engine stores the turn's classified intent on it, and the
 * responder classifies `unknown` exactly when it falls back (`fallback` is accepted too); LLM replies without an
 * intent are recognised by wording ({@link FALLBACK_PATTERNS}).
 */
export function isFallbackReply(t: Pick<SummaryTurn, 'text' | 'intent'>): boolean {
  return t.intent === 'unknown' || t.intent === 'fallback' || FALLBACK_PATTERNS.some((re) => re.test(t.text));
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Scores one call. See the module comment for the formula.
 * @returns `{ score: 1..5, method: CSAT_METHOD, details }`.
 * @throws TypeError when `turns` is not an array.
 */
export function scoreCsat(input: CsatInput): CsatResult {
  if (!Array.isArray(input?.turns)) throw new TypeError('scoreCsat: input.turns must be an array of turns');
  const turns = input.turns;
  const caller = turns.filter((t) => t.role === 'caller');

  // Sentiment: AFINN-165 comparative over English (or untagged) caller turns.
  let afinnScore = 0;
  let tokens = 0;
  let sentimentTurns = 0;
  for (const t of caller) {
    if (t.language && t.language !== 'en') continue;
    const r = analyzer.analyze(t.text);
    afinnScore += r.score;
    tokens += r.tokens.length;
    sentimentTurns += 1;
  }
  const sentiment = tokens ? clamp(afinnScore / tokens, -1, 1) : 0;

  // Resolution: agent answers after the caller first spoke.
  const firstCaller = turns.findIndex((t) => t.role === 'caller');
  const answers = firstCaller < 0 ? [] : turns.slice(firstCaller).filter((t) => t.role === 'agent');
  let fallbackReplies = 0;
  let run = 0;
  let maxRun = 0;
  for (const a of answers) {
    if (isFallbackReply(a)) {
      fallbackReplies += 1;
      run += 1;
      maxRun = Math.max(maxRun, run);
    } else {
      run = 0;
    }
  }
  const answeredRatio = answers.length ? (answers.length - fallbackReplies) / answers.length : null;

  const handoffRequested =
    caller.some((t) => (t.intent && HANDOFF_INTENT.test(t.intent)) || HANDOFF_TEXT.test(t.text)) ||
    (input.eventTypes ?? []).some((e) => HANDOFF_EVENT.test(e));
  const closingCourtesy = caller.slice(-2).some((t) => COURTESY.test(t.text));

  const span = turns.length ? Math.max(...turns.map((t) => t.endMs)) - Math.min(...turns.map((t) => t.startMs)) : 0;
  const durationMs = Math.max(0, input.durationMs ?? span);

  const components: CsatComponents = {
    base: 3,
    sentiment: round2(1.5 * sentiment),
    resolution: answeredRatio === null ? 0 : round2(answeredRatio - 0.5),
    repeatedFallbacks: maxRun >= 2 ? -0.5 * Math.min(2, maxRun - 1) : 0,
    handoff: handoffRequested ? -0.75 : 0,
    closingCourtesy: closingCourtesy ? 0.5 : 0,
    callLength: durationMs < SHORT_CALL_MS ? -0.5 : durationMs > LONG_CALL_MS ? -0.25 : 0,
  };
  const raw = round2(Object.values(components).reduce((a, b) => a + b, 0));
  return {
    score: clamp(Math.round(raw), 1, 5),
    method: CSAT_METHOD,
    details: {
      sentiment: round2(sentiment),
      sentimentTokens: tokens,
      sentimentTurns,
      agentAnswers: answers.length,
      fallbackReplies,
      answeredRatio: answeredRatio === null ? null : round2(answeredRatio),
      maxConsecutiveFallbacks: maxRun,
      handoffRequested,
      closingCourtesy,
      durationMs,
      raw,
      components,
    },
  };
}
