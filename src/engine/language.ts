import { francAll } from 'franc';
import { ISO1_TO_3, iso3to1 } from '../domain/languages';

export { iso3to1 };

/**
 * Languages franc always considers (ISO 639-3), beside the agent's own. Kept small on purpose: every added
 * language makes short English sentences more ambiguous (with Dutch in the set, "I would like to know when the
 * store opens tomorrow morning" scores eng 1 / nld 0.84).
 */
const DETECTABLE = ['eng', 'spa', 'fra', 'deu'];

/**
 * franc's runner-up score (scores are normalised so the best is 1) at or above which the text is too ambiguous to
 * trust. Measured on short call-center sentences over {@link DETECTABLE}: misdetections had runners-up of 0.79
 * ("can I talk to a person" → spa 1 / fra 0.79) and 0.83 ("i want my money back please" → fra 1 / spa 0.83);
 * correct detections of 20+ characters had at most 0.77, and the prior covers those.
 */
const AMBIGUOUS_RUNNER_UP = 0.75;

export interface LanguageDecision {
  /** ISO 639-1 language the caller spoke (stored on the turn). */
  language: string;
  /** ISO 639-1 language to answer in: `language` when the agent speaks it, else the agent's default. */
  replyLanguage: string;
  /** Which evidence decided `language`. */
  source: 'stt' | 'franc' | 'prior';
  /** franc's ISO 639-3 best guess (`und` when it had too little text). */
  francCode: string;
}

/**
 * Decides the language of one caller turn from the STT's own language id, franc on the text (over
 * {@link DETECTABLE} plus the agent's languages) and the call's prior (the language so far):
 * - the STT's language wins when franc agrees, or when the text has at least `minChars / 2` characters;
 * - otherwise franc wins when the text has at least `minChars` (default 20) characters and its runner-up is not
 *   close (see {@link AMBIGUOUS_RUNNER_UP}): short or ambiguous utterances never flip the prior;
 * - otherwise the prior (default: the agent's first language).
 * @param supported ISO 639-1 codes the agent speaks (first = default).
 */
export function decideLanguage(o: { text: string; sttLanguage?: string; prior?: string; supported: string[]; minChars?: number }): LanguageDecision {
  const minChars = o.minChars ?? 20;
  const fallback = o.supported[0] ?? 'en';
  const prior = o.prior ?? fallback;
  const text = o.text.trim();
  const only = [...new Set([...DETECTABLE, ...o.supported.map((l) => ISO1_TO_3[l]).filter(Boolean)])];
  const ranked = text.length >= 10 ? francAll(text, { only, minLength: 10 }) : [];
  const francCode = ranked[0]?.[0] ?? 'und';
  const francLang = francCode === 'und' ? undefined : iso3to1(francCode);
  const clear = (ranked[1]?.[1] ?? 0) < AMBIGUOUS_RUNNER_UP;
  const reply = (language: string) => (o.supported.includes(language) ? language : fallback);
  const stt = o.sttLanguage;
  if (stt && (francLang === stt || text.length >= minChars / 2)) return { language: stt, replyLanguage: reply(stt), source: 'stt', francCode };
  if (francLang && clear && text.length >= minChars) return { language: francLang, replyLanguage: reply(francLang), source: 'franc', francCode };
  return { language: prior, replyLanguage: reply(prior), source: 'prior', francCode };
}
