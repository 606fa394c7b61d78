/**
 * Whisper's language names → ISO 639-1. Whisper (`whisper-1` `verbose_json`, and self-hosted Whisper servers)
 * reports the detected language as a lower-case English name. Source: openai/whisper `whisper/tokenizer.py`
 * (`LANGUAGES`, 99 languages plus the `TO_LANGUAGE_CODE` aliases). Whisper's own codes are ISO 639-1 except three:
 * `jw` (Javanese) is mapped to the standard `jv`; Hawaiian (`haw`) and Cantonese (`yue`) have no ISO 639-1 code —
 * Cantonese maps to `zh` (the Chinese macrolanguage), Hawaiian to undefined.
 */
export const WHISPER_LANGUAGE_CODES: Readonly<Record<string, string>> = Object.freeze({
  english: 'en', chinese: 'zh', german: 'de', spanish: 'es', russian: 'ru', korean: 'ko', french: 'fr',
  japanese: 'ja', portuguese: 'pt', turkish: 'tr', polish: 'pl', catalan: 'ca', dutch: 'nl', arabic: 'ar',
  swedish: 'sv', italian: 'it', indonesian: 'id', hindi: 'hi', finnish: 'fi', vietnamese: 'vi', hebrew: 'he',
  ukrainian: 'uk', greek: 'el', malay: 'ms', czech: 'cs', romanian: 'ro', danish: 'da', hungarian: 'hu',
  tamil: 'ta', norwegian: 'no', thai: 'th', urdu: 'ur', croatian: 'hr', bulgarian: 'bg', lithuanian: 'lt',
  latin: 'la', maori: 'mi', malayalam: 'ml', welsh: 'cy', slovak: 'sk', telugu: 'te', persian: 'fa',
  latvian: 'lv', bengali: 'bn', serbian: 'sr', azerbaijani: 'az', slovenian: 'sl', kannada: 'kn', estonian: 'et',
  macedonian: 'mk', breton: 'br', basque: 'eu', icelandic: 'is', armenian: 'hy', nepali: 'ne', mongolian: 'mn',
  bosnian: 'bs', kazakh: 'kk', albanian: 'sq', swahili: 'sw', galician: 'gl', marathi: 'mr', punjabi: 'pa',
  sinhala: 'si', khmer: 'km', shona: 'sn', yoruba: 'yo', somali: 'so', afrikaans: 'af', occitan: 'oc',
  georgian: 'ka', belarusian: 'be', tajik: 'tg', sindhi: 'sd', gujarati: 'gu', amharic: 'am', yiddish: 'yi',
  lao: 'lo', uzbek: 'uz', faroese: 'fo', 'haitian creole': 'ht', pashto: 'ps', turkmen: 'tk', nynorsk: 'nn',
  maltese: 'mt', sanskrit: 'sa', luxembourgish: 'lb', myanmar: 'my', tibetan: 'bo', tagalog: 'tl',
  malagasy: 'mg', assamese: 'as', tatar: 'tt', lingala: 'ln', hausa: 'ha', bashkir: 'ba', javanese: 'jv',
  sundanese: 'su', cantonese: 'zh',
  // Whisper's TO_LANGUAGE_CODE aliases.
  burmese: 'my', valencian: 'ca', flemish: 'nl', haitian: 'ht', letzeburgesch: 'lb', pushto: 'ps', panjabi: 'pa',
  moldavian: 'ro', moldovan: 'ro', sinhalese: 'si', castilian: 'es', mandarin: 'zh',
});

const ISO_CODES = new Set(Object.values(WHISPER_LANGUAGE_CODES));

/**
 * ISO 639-1 code of a language as Whisper reports it: an English name (`"spanish"`, any case) or — from
 * OpenAI-compatible servers that report codes — an ISO 639-1 code or tag (`"es"`, `"es-MX"`; Whisper's `jw` → `jv`).
 * @returns the code, or undefined for an unknown/empty name or a language without an ISO 639-1 code (Hawaiian).
 */
export function whisperLanguageToIso6391(name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const n = name.trim().toLowerCase().replace(/[_\s]+/g, ' ');
  const byName = WHISPER_LANGUAGE_CODES[n];
  if (byName) return byName;
  const primary = n.split(/[-_ ]/)[0];
  if (primary === 'jw') return 'jv';
  if (primary === 'yue') return 'zh';
  return ISO_CODES.has(primary) ? primary : undefined;
}
