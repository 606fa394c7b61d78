import Sentiment from 'sentiment';
import type { SummaryTurn } from './transcript';

/**
 * Heuristic CSAT (customer satisfaction, 1..5) from a finished call — pure, no I/O.
 *
 * Formula `heuristic-v2`: a linear model over raw features of the call ({@link csatFeatures}), its weights separate
 * ({@link CsatWeights}: the built-in {@link DEFAULT_CSAT_WEIGHTS}, or weights fitted to callers' stated scores by
 * `scripts/refit-csat.ts` and loaded from a JSON file, see `csat-weights.ts`):
 *
 *   raw = intercept + Σ_k w_k × x_k        (every term w_k × x_k is in `details.components`)
 *   score = clamp(round(raw), 1, 5)
 *
 * Features x_k:
 *   sentiment          S = AFINN-165 comparative sentiment of the caller's words, clamped to [-1, 1]:
 *                      Σ score / Σ tokens over caller turns in English (or untagged) — the `sentiment` npm
 *                      package (AFINN-165 word list, English only; other languages count as neutral)
 *   resolution         A − 0.5, A = share of agent answers that were not fallback replies (answers = agent turns after
 *                      the caller first spoke, so the greeting does not count); 0 with no answers
 *   repeatedFallbacks  min(2, F − 1) when F ≥ 2, else 0; F = longest run of consecutive fallback replies
 *   handoff            1 if a handoff to a human was requested (caller intent, caller words, or a handoff/transfer event)
 *   closingCourtesy    1 if the caller said thanks/goodbye in one of their last two turns (a polite close)
 *   shortCall          1 if the call lasted under 15 s (abandoned)
 *   longCall           1 if it lasted over 10 min (long calls rate lower)
 *
 * The built-in weights are the hand-set ones of `heuristic-v1` (intercept 3; 1.5, 1.0, −0.5, −0.75, +0.5, −0.5,
 * −0.25): with them scores are unchanged. The method string records which weights scored a call
 * ({@link csatMethod}: `heuristic-v2+default`, or `heuristic-v2+fit:<date>.<hash>`).
 */

/** The features of the model, in the order of a weight vector. */
export const CSAT_FEATURES = ['sentiment', 'resolution', 'repeatedFallbacks', 'handoff', 'closingCourtesy', 'shortCall', 'longCall'] as const;
export type CsatFeature = (typeof CSAT_FEATURES)[number];
/** One call's raw features (see the module comment). */
export type CsatFeatures = Record<CsatFeature, number>;

/** A weight set: `raw = intercept + Σ weights[k] × features[k]`; `version` names it in the method string. */
export interface CsatWeights {
  /** `default` for the built-in weights, `fit:<YYYY-MM-DD>.<hash>` for fitted ones (≤ 40 chars). */
  version: string;
  intercept: number;
  weights: Record<CsatFeature, number>;
}

/** The built-in (hand-set, `heuristic-v1`) weights. */
export const DEFAULT_CSAT_WEIGHTS: CsatWeights = Object.freeze({
  version: 'default',
  intercept: 3,
  weights: Object.freeze({ sentiment: 1.5, resolution: 1, repeatedFallbacks: -0.5, handoff: -0.75, closingCourtesy: 0.5, shortCall: -0.5, longCall: -0.25 }),
}) as CsatWeights;

/** The method string of scores made with `w`: `heuristic-v2+<version>`. */
export function csatMethod(w: Pick<CsatWeights, 'version'>): string {
  return `heuristic-v2+${w.version}`;
}

/** The method of the built-in weights (what scores carry when no fitted weights file is loaded). */
export const CSAT_METHOD = csatMethod(DEFAULT_CSAT_WEIGHTS);

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
  /** The raw features the score was computed from. */
  features: CsatFeatures;
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
/** Rounded to 0.01; never -0 (a negative weight times a 0 feature). */
const round2 = (x: number) => Math.round(x * 100) / 100 || 0;

/** The raw features of one call and the facts behind them (see the module comment). */
export type CsatFeatureSet = Omit<CsatDetails, 'raw' | 'components'>;

/**
 * Computes the raw features of one call (no weights). See the module comment.
 * @throws TypeError when `turns` is not an array.
 */
export function csatFeatures(input: CsatInput): CsatFeatureSet {
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

  return {
    features: {
      sentiment,
      resolution: answeredRatio === null ? 0 : answeredRatio - 0.5,
      repeatedFallbacks: maxRun >= 2 ? Math.min(2, maxRun - 1) : 0,
      handoff: handoffRequested ? 1 : 0,
      closingCourtesy: closingCourtesy ? 1 : 0,
      shortCall: durationMs < SHORT_CALL_MS ? 1 : 0,
      longCall: durationMs > LONG_CALL_MS ? 1 : 0,
    },
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
  };
}

/** `intercept + Σ w_k × x_k`, unrounded (what the refit script's error is measured on before rounding). */
export function csatRaw(features: CsatFeatures, w: CsatWeights = DEFAULT_CSAT_WEIGHTS): number {
  return CSAT_FEATURES.reduce((sum, k) => sum + w.weights[k] * features[k], w.intercept);
}

/** The 1..5 score of a raw value: `clamp(round(raw), 1, 5)`. */
export const csatScoreOf = (raw: number): number => clamp(Math.round(raw), 1, 5);

/**
 * Scores one call with `weights` (default: the built-in ones; the post-call step passes the loaded file's).
 * See the module comment for the formula.
 * @returns `{ score: 1..5, method: csatMethod(weights), details }` (details.raw, details.components rounded to 0.01).
 * @throws TypeError when `turns` is not an array.
 */
export function scoreCsat(input: CsatInput, weights: CsatWeights = DEFAULT_CSAT_WEIGHTS): CsatResult {
  const f = csatFeatures(input);
  const w = weights.weights;
  const x = f.features;
  const components: CsatComponents = {
    base: weights.intercept,
    sentiment: round2(w.sentiment * x.sentiment),
    resolution: round2(w.resolution * x.resolution),
    repeatedFallbacks: round2(w.repeatedFallbacks * x.repeatedFallbacks),
    handoff: round2(w.handoff * x.handoff),
    closingCourtesy: round2(w.closingCourtesy * x.closingCourtesy),
    callLength: round2(w.shortCall * x.shortCall + w.longCall * x.longCall),
  };
  const raw = round2(Object.values(components).reduce((a, b) => a + b, 0));
  return { score: csatScoreOf(raw), method: csatMethod(weights), details: { ...f, features: { ...x, sentiment: round2(x.sentiment), resolution: round2(x.resolution) }, raw, components } };
}
