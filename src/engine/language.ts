import { franc } from 'franc';

/** ISO 639-3 → ISO 639-1 for the languages we speak (extend with the agents' languages). */
const ISO3_TO_1: Record<string, string> = {
  eng: 'en', spa: 'es', fra: 'fr', deu: 'de', ita: 'it', por: 'pt', nld: 'nl', pol: 'pl', tur: 'tr', rus: 'ru',
  cmn: 'zh', jpn: 'ja', kor: 'ko', arb: 'ar', hin: 'hi', swe: 'sv', dan: 'da', nob: 'no', fin: 'fi', ces: 'cs',
};
const ISO1_TO_3 = Object.fromEntries(Object.entries(ISO3_TO_1).map(([k, v]) => [v, k]));

/** Maps an ISO 639-3 code (franc) to ISO 639-1, or undefined when unknown. */
export function iso3to1(code: string): string | undefined {
  return ISO3_TO_1[code];
}

export interface LanguageDecision {
  /** ISO 639-1 language of the turn. */
  language: string;
  /** Which evidence decided it. */
  source: 'stt' | 'franc' | 'prior';
  francCode: string;
}

/**
 * Decides the language of one caller turn from the STT's own language id, franc on the text (restricted to the
 * agent's languages) and the call's prior (the language so far). Short text (< `minChars`, franc's own reliability
 * floor is 10) never flips the prior on franc alone; when STT and franc agree, that wins; when only one of them
 * speaks, it wins over the prior only if the text is long enough.
 * @param supported ISO 639-1 codes the agent speaks (first = default).
 */
export function decideLanguage(o: { text: string; sttLanguage?: string; prior?: string; supported: string[]; minChars?: number }): LanguageDecision {
  const minChars = o.minChars ?? 20;
  const prior = o.prior ?? o.supported[0] ?? 'en';
  const only = o.supported.map((l) => ISO1_TO_3[l]).filter(Boolean);
  const text = o.text.trim();
  const francCode = only.length > 1 && text.length >= 10 ? franc(text, { only, minLength: 10 }) : 'und';
  const francLang = francCode === 'und' ? undefined : iso3to1(francCode);
  const stt = o.sttLanguage && (o.supported.includes(o.sttLanguage) || o.supported.length === 0) ? o.sttLanguage : undefined;
  if (stt && francLang === stt) return { language: stt, source: 'stt', francCode };
  if (stt && text.length >= minChars / 2) return { language: stt, source: 'stt', francCode };
  if (francLang && text.length >= minChars) return { language: francLang, source: 'franc', francCode };
  return { language: only.length === 1 ? o.supported[0] : prior, source: 'prior', francCode };
}
