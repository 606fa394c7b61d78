import * as chrono from 'chrono-node';
import { validateExtractedFields, type ExtractedFields, type ExtractionProperty, type ExtractionSchema } from '../domain/extraction-schema';

/**
 * Offline extraction of an agent's fields (src/domain/extraction-schema.ts) from a transcript, deterministic:
 * - `string` + `format` date-time | date | time: the first date/time chrono-node reads in the caller's words
 *   (relative expressions such as "tomorrow at 3 pm" are read against the call's start; ISO output in UTC);
 * - `email` / `phone`: the first email address / phone number (spoken digits "five five five …" are joined);
 * - `enum` (string or number): the first enum value named in the caller's words (whole words, case-insensitive);
 * - other strings: an id-like token (letters and digits with ≥ 3 digits: "A-12345", "ORD 7781", or 4+ spoken digits)
 *   when the property's name or description is about an order/account/reference/id/number/ticket/booking/case, a
 *   name after "my name is" / "this is" for a name property;
 * - `number` / `integer`: a number next to one of the property's name words ("3 tickets", "party of four"), else
 *   none; `boolean`: true when a name word is said without a negation in front, false when negated, else none.
 * Caller turns are searched first; for id-like strings, emails and phone numbers then the agent's (a read-back). Every value is then
 * checked against the schema ({@link validateExtractedFields}); invalid ones are dropped.
 */
export function extractFieldsLocally(schema: ExtractionSchema, turns: ReadonlyArray<{ role: 'caller' | 'agent'; text: string }>, startedAt: Date): ExtractedFields {
  const caller = turns.filter((t) => t.role === 'caller').map((t) => t.text);
  const agent = turns.filter((t) => t.role === 'agent').map((t) => t.text);
  const raw: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(schema.properties)) {
    // An agent's read-back confirms an id or an address; its dates, counts and yes/no words are its own, not the caller's.
    const agentMayTell = p.type === 'string' && !p.enum && p.format !== 'date-time' && p.format !== 'date' && p.format !== 'time';
    raw[name] = extractOne(name, p, caller, startedAt) ?? (agentMayTell ? extractOne(name, p, agent, startedAt) : undefined) ?? null;
  }
  return validateExtractedFields(schema, raw).fields;
}

const DIGIT_WORDS: Record<string, string> = { zero: '0', oh: '0', o: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9' };
const NUMBER_WORDS: Record<string, number> = { ...Object.fromEntries(Object.entries(DIGIT_WORDS).map(([k, v]) => [k, Number(v)])), ten: 10, eleven: 11, twelve: 12, a: 1, an: 1, single: 1, couple: 2, dozen: 12 };
const ID_TOPIC = /order|account|reference|ref\b|\bid\b|number|ticket|booking|case|confirmation|invoice|tracking|policy|membership|serial/i;

/** `orderNumber` → ['order', 'number']; `appointment_time` → ['appointment', 'time']. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[\s_]+/)
    .map((w) => w.toLowerCase())
    .filter((w) => w.length >= 3);
}

/** Replaces runs of spoken digits ("one two three four") by the digits ("1234"). */
function joinSpokenDigits(text: string): string {
  return text.replace(/\b((?:zero|oh|one|two|three|four|five|six|seven|eight|nine)(?:[\s,-]+(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)){2,})\b/gi, (run) =>
    run
      .split(/[\s,-]+/)
      .map((w) => DIGIT_WORDS[w.toLowerCase()] ?? '')
      .join(''),
  );
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pad = (n: number) => String(n).padStart(2, '0');

function extractOne(name: string, p: ExtractionProperty, texts: string[], ref: Date): string | number | boolean | undefined {
  const topic = `${name} ${p.description ?? ''}`;
  for (const text of texts) {
    const v = fromText(name, topic, p, text, ref);
    if (v !== undefined) return v;
  }
  return undefined;
}

function fromText(name: string, topic: string, p: ExtractionProperty, text: string, ref: Date): string | number | boolean | undefined {
  if (p.enum) {
    for (const e of p.enum) if (new RegExp(`\\b${escapeRe(String(e))}\\b`, 'i').test(text)) return e;
    return undefined;
  }
  if (p.type === 'boolean') {
    for (const w of nameWords(name)) {
      const m = new RegExp(`(\\b(?:no|not|don'?t|doesn'?t|didn'?t|never|without)\\s+(?:\\w+\\s+){0,2})?\\b${escapeRe(w)}`, 'i').exec(text);
      if (m) return !m[1];
    }
    return undefined;
  }
  if (p.type === 'number' || p.type === 'integer') {
    const words = nameWords(name).map((w) => escapeRe(w.replace(/s$/, '')));
    if (!words.length) return undefined;
    const num = '(\\d+(?:\\.\\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a|an|single|couple|dozen)';
    const re = new RegExp(`\\b${num}\\s+(?:\\w+\\s+)?(?:${words.join('|')})s?\\b|\\b(?:${words.join('|')})s?\\s+(?:of|is|are|was|:)?\\s*${num}\\b`, 'i');
    const m = re.exec(text);
    const token = m?.[1] ?? m?.[2];
    if (!token) return undefined;
    const n = /^\d/.test(token) ? Number(token) : NUMBER_WORDS[token.toLowerCase()];
    return n === undefined ? undefined : n;
  }
  // strings
  switch (p.format) {
    case 'date-time':
    case 'date':
    case 'time': {
      const r = chrono.casual.parse(text, ref, { forwardDate: true })[0];
      if (!r) return undefined;
      const d = r.start.date();
      if (p.format === 'date-time') return d.toISOString();
      if (p.format === 'date') return `${r.start.get('year')}-${pad(r.start.get('month') ?? 1)}-${pad(r.start.get('day') ?? 1)}`;
      return r.start.isCertain('hour') ? `${pad(r.start.get('hour') ?? 0)}:${pad(r.start.get('minute') ?? 0)}` : undefined;
    }
    case 'email':
      return /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/.exec(text.replace(/\s+at\s+/gi, '@').replace(/\s+dot\s+/gi, '.'))?.[0];
    case 'phone': {
      const m = /\+?\d[\d\s().-]{6,18}\d/.exec(joinSpokenDigits(text));
      return m ? m[0].replace(/[\s().-]/g, '') : undefined;
    }
  }
  if (ID_TOPIC.test(topic)) {
    const t = joinSpokenDigits(text);
    const m = /\b(?=[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d)[A-Z]{0,4}[- ]?\d[\dA-Z-]{2,19}\b/i.exec(t);
    return m ? m[0].replace(/\s+/g, '').toUpperCase() : undefined;
  }
  if (/name/i.test(name)) {
    const m = /\b(?:my name is|my name's|this is|i am|i'm)\s+([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)/.exec(text);
    return m?.[1];
  }
  return undefined;
}
