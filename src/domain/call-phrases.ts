/**
 * Phrase matching on caller transcripts (outbound calls): opt-out requests and answering-machine / call-screener
 * greetings. Matching is on normalised text: lower case, accents removed, punctuation → spaces, runs of spaces
 * collapsed, so "Deje su mensaje después del tono." matches "deje su mensaje despues del tono".
 */

/** `text` lower-cased, without diacritics or punctuation, single-spaced, with apostrophes dropped ("you're" → "youre"). */
export function normalizePhrase(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Whether normalised `text` contains one of `phrases` (normalised too) on word boundaries. */
export function containsPhrase(text: string, phrases: readonly string[]): string | null {
  const t = ` ${normalizePhrase(text)} `;
  for (const p of phrases) {
    const n = normalizePhrase(p);
    if (n && t.includes(` ${n} `)) return p;
  }
  return null;
}

/** Built-in opt-out requests (en/es/fr/de); an agent's `optOutPhrases` add to them. */
export const OPT_OUT_PHRASES: readonly string[] = [
  'stop calling me', 'stop calling', 'take me off your list', 'take me off your calling list', 'remove me from your list',
  'remove me from your calling list', 'put me on your do not call list', 'do not call me', 'dont call me again', 'never call me again',
  'no me llamen mas', 'no me llame mas', 'dejen de llamarme', 'borrenme de su lista', 'quitenme de su lista',
  'ne mappelez plus', 'arretez de mappeler', 'retirez moi de votre liste', 'supprimez moi de votre liste',
  'rufen sie mich nicht mehr an', 'rufen sie mich nie wieder an', 'horen sie auf mich anzurufen', 'streichen sie mich von ihrer liste',
];

/** The opt-out phrase `text` contains (built-ins + `extra`), or null. */
export function optOutPhraseIn(text: string, extra: readonly string[] = []): string | null {
  return containsPhrase(text, [...extra, ...OPT_OUT_PHRASES]);
}
