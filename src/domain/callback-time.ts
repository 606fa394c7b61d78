import * as chrono from 'chrono-node';
import { DateTime } from 'luxon';

const NUMBER_WORDS: Record<string, Record<string, number>> = {
  en: { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, noon: 12 },
  es: { una: 1, uno: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5, seis: 6, siete: 7, ocho: 8, nueve: 9, diez: 10, once: 11, doce: 12 },
  fr: { une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9, dix: 10, onze: 11, douze: 12 },
  de: { eins: 1, zwei: 2, drei: 3, vier: 4, fünf: 5, sechs: 6, sieben: 7, acht: 8, neun: 9, zehn: 10, elf: 11, zwölf: 12 },
};
/** The word before an hour said as a word: "at three", "a las tres", "à trois heures", "um drei". */
const HOUR_LEAD: Record<string, string> = { en: 'at', es: 'a las|a la', fr: 'à|a', de: 'um' };
const PARSERS: Record<string, chrono.Chrono> = { en: chrono.casual, es: chrono.es.casual, fr: chrono.fr.casual, de: chrono.de.casual };

/** Hours said without am/pm that mean the afternoon for a callback ("at three" → 15:00): 1 to 7. */
const AFTERNOON_HOURS = 7;

/**
 * The instant a callee means by a callback request ("call me back tomorrow at three", "mañana a las tres"), read
 * with chrono-node in `language` (en, es, fr, de; others as en) relative to `now` in the IANA zone `timeZone` (the
 * contact's: "three" is three o'clock there), always in the future (`forwardDate`). Hours said as words are turned into
 * digits first ("at three" → "at 3"), and the audiobook spellings of the offline STT ("to-morrow") modernised; an hour from 1 to 7 said without am/pm is taken as the afternoon. A clock time
 * said is a wall-clock time in the zone on the day it falls (luxon): "tomorrow at 3 pm" the day before a daylight-saving
 * change is 15:00 local after it, not 14:00 or 16:00 (chrono reads the expression at the offset of `now`; the local
 * date and time it found are re-anchored in the zone). An offset the callee says ("3 pm UTC") is kept as said.
 * @returns null when the text holds no date or time, or the zone is unknown.
 */
export function parseCallbackTime(text: string, o: { now: Date; timeZone: string; language?: string }): Date | null {
  return readCallbackTime(text, o)?.at ?? null;
}

/**
 * Parts of the day a callee may name instead of a clock time, and the local hour they are booked at (morning 09:00,
 * midday 12:00, afternoon 15:00, evening 18:00, tonight 19:00). chrono-node keeps the current hour for some of them
 * ("mañana por la tarde" at 08:00 is read as 08:00), so the hour is set here, the same in every language.
 */
const PART_OF_DAY: Record<string, Array<[RegExp, number]>> = {
  en: [[/\bmorning\b/iu, 9], [/\b(noon|midday|lunchtime)\b/iu, 12], [/\bafternoon\b/iu, 15], [/\bevening\b/iu, 18], [/\btonight\b/iu, 19]],
  es: [[/\b(por|en|de) la mañana\b/iu, 9], [/\bmediod[ií]a\b/iu, 12], [/\b(por|en|de|esta) la tarde\b|\besta tarde\b/iu, 15], [/\b(por|en|de) la noche\b|\besta noche\b/iu, 19]],
  fr: [[/\bmatin(ée)?\b/iu, 9], [/après-midi/iu, 15], [/\bmidi\b/iu, 12], [/\bsoir(ée)?\b/iu, 18]],
  de: [[/\b(morgens|vormittags?)\b/iu, 9], [/\bmittags?\b/iu, 12], [/\bnachmittags?\b/iu, 15], [/\babends?\b/iu, 18]],
};
/** Greetings that name a part of the day ("good morning", "guten Abend", "buenas tardes"): not a time the callee asks for. */
const GREETING = /\bgood (morning|afternoon|evening)\b|\bguten (morgen|tag|abend)\b|\bbuen(os|as) (d[ií]as|tardes|noches)\b/giu;

/**
 * {@link parseCallbackTime} with whether the callee named a time of day: a clock time ("at three", "um 15 Uhr", "in
 * two hours") or a part of the day ("tomorrow morning"). chrono-node fills a day said alone ("on Saturday") with
 * 12:00, which no callee asked for: the agent should ask what time suits them (`timeOfDay: false`).
 * @returns null when the text holds no date or time, or the zone is unknown.
 */
export function readCallbackTime(text: string, o: { now: Date; timeZone: string; language?: string }): { at: Date; timeOfDay: boolean } | null {
  const lang = PARSERS[o.language ?? 'en'] ? (o.language ?? 'en') : 'en';
  const zoneNow = DateTime.fromJSDate(o.now, { zone: o.timeZone });
  if (!zoneNow.isValid) return null;
  const words = NUMBER_WORDS[lang];
  // Moonshine (trained on audiobooks) writes "to-morrow" / "to-day" / "to-night" as old books do.
  const modern = (lang === 'en' ? text.replace(/\bto[- ](morrow|day|night)\b/giu, 'to$1') : text).replace(GREETING, '');
  const spoken = modern.replace(new RegExp(`\\b(${HOUR_LEAD[lang]})\\s+(\\p{L}+)`, 'giu'), (m, lead: string, w: string) =>
    words[w.toLowerCase()] !== undefined ? `${lead} ${words[w.toLowerCase()]}` : m,
  );
  const [r] = PARSERS[lang].parse(spoken, { instant: o.now, timezone: zoneNow.offset }, { forwardDate: true });
  if (!r) return null;
  // A part of the day said with or after the date ("Saturday afternoon", "demain, en fin d'après-midi"), not a greeting before it.
  const partHour = r.start.isCertain('hour') ? undefined : PART_OF_DAY[lang].find(([re]) => re.test(spoken.slice(r.index)))?.[1];
  const hour = r.start.get('hour');
  const afternoon = r.start.isCertain('hour') && !r.start.isCertain('meridiem') && hour !== null && hour >= 1 && hour <= AFTERNOON_HOURS;
  const at = r.start.isCertain('timezoneOffset')
    ? new Date(r.start.date().getTime() + (afternoon ? 12 * 3_600_000 : 0))
    : wallClockIn(r.start, o.timeZone, partHour ?? (hour ?? 0) + (afternoon ? 12 : 0), partHour !== undefined);
  if (at.getTime() <= o.now.getTime()) return null;
  return { at, timeOfDay: r.start.isCertain('hour') || partHour !== undefined };
}

/** The local date chrono found at `hour` (its minutes and seconds too, unless `onTheHour`) as that wall-clock time in `zone` (luxon). */
function wallClockIn(c: chrono.ParsedComponents, zone: string, hour: number, onTheHour: boolean): Date {
  const n = (k: chrono.Component) => (onTheHour && k !== 'year' && k !== 'month' && k !== 'day' ? 0 : (c.get(k) ?? 0));
  const local = DateTime.fromObject({ year: n('year'), month: n('month'), day: n('day'), hour, minute: n('minute'), second: n('second'), millisecond: n('millisecond') }, { zone });
  return local.toJSDate();
}

/** `at` as the callee hears it confirmed, in `timeZone` and `language` (e.g. "Thursday, December 3 at 3:00 PM"). */
export function describeCallbackTime(at: Date, timeZone: string, language = 'en'): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).setLocale(language).toLocaleString({ weekday: 'long', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit' });
}
