/** Language codes: ISO 639-3 (franc) ⇄ ISO 639-1 (STT, TTS, agents). Pure data, no imports. */

/** ISO 639-3 → ISO 639-1 for the languages we speak (extend with the agents' languages). */
const ISO3_TO_1: Record<string, string> = {
  eng: 'en', spa: 'es', fra: 'fr', deu: 'de', ita: 'it', por: 'pt', nld: 'nl', pol: 'pl', tur: 'tr', rus: 'ru',
  cmn: 'zh', jpn: 'ja', kor: 'ko', arb: 'ar', hin: 'hi', swe: 'sv', dan: 'da', nob: 'no', fin: 'fi', ces: 'cs',
};
export const ISO1_TO_3 = Object.fromEntries(Object.entries(ISO3_TO_1).map(([k, v]) => [v, k]));

/** Maps an ISO 639-3 code (franc) to ISO 639-1, or undefined when unknown. */
export function iso3to1(code: string): string | undefined {
  return ISO3_TO_1[code];
}
