/**
 * Shared text normalisation for the offline embedder, the chunker and the local responder: lower-case, strip
 * accents (NFKD + drop combining marks), drop apostrophes (`i'm` → `im`), turn other punctuation into spaces,
 * and a tiny English suffix stemmer. Pure functions, no I/O.
 */

import { normalizePhrase } from '../domain/call-phrases';

/** Lower-cases, strips accents and punctuation; returns the word tokens (letters/digits only). */
export function tokenize(text: string): string[] {
  return normalizePhrase(text).split(' ').filter(Boolean);
}

/**
 * A deliberately small English stemmer (a few of Porter's 1980 step-1 rules): `ies`→`y`, `sses`→`ss`, drops `s`
 * (not `ss`/`us`/`is`), `ing`, `ed`, `ly` when at least 3 letters remain, and undoubles a final consonant left by
 * `ing`/`ed` (`shipped` → `ship`), then drops a final `e` (Porter step 5: `close`, `closed`, `closing` → `clos`). Words of 3 letters or fewer are returned unchanged.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) return w.slice(0, -3) + 'y';
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  for (const suffix of ['ing', 'ed', 'ly']) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length);
      if (suffix !== 'ly' && /([bdgmnprt])\1$/.test(w)) w = w.slice(0, -1);
      break;
    }
  }
  if (w.length >= 5 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** Function words ignored for matching (kept tiny on purpose: question words like "when"/"where" carry meaning). */
export const STOPWORDS = new Set(
  'a an the and or but of to in on at for from by with as is are was were be been am do does did doing have has had i me my we our us you your yours he she it its they them their this that these those there here so than then too very can could would should will shall may might must just also about into over up down out off if im id ive ill its thats theres please hi hello um uh er ah oh okay ok yeah'.split(' '),
);

/** Tokens with stopwords removed and the stemmer applied; falls back to all stemmed tokens when all are stopwords. */
export function contentTerms(text: string): string[] {
  const toks = tokenize(text);
  const content = toks.filter((t) => !STOPWORDS.has(t));
  return (content.length ? content : toks).map(stem);
}

/**
 * Splits text into sentences on `.`, `!`, `?` (or `;`/newlines) followed by whitespace; keeps the punctuation.
 * Abbreviation-unaware on purpose (knowledge texts are written for it); empty pieces are dropped.
 */
export function splitSentences(text: string): string[] {
  return text
    .replace(/\s*\n+\s*/g, '\n')
    .split(/(?<=[.!?;])\s+|\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}
