import { parsePhoneNumberWithError, ParseError, validatePhoneNumberLength } from 'libphonenumber-js';
import { z } from 'zod';

/**
 * Phone numbers as the platform stores them: E.164 (`+` country code and national number, at most 15 digits, no
 * spaces), validated against libphonenumber's metadata (libphonenumber-js, Google's libphonenumber rules).
 */

/** The E.164 syntax (ITU-T E.164: `+`, a country code not starting with 0, at most 15 digits in all). */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

const REASONS: Record<string, string> = {
  NOT_A_NUMBER: 'not a phone number',
  INVALID_COUNTRY: 'unknown country code (write it in international form, starting with + and the country code)',
  TOO_SHORT: 'too short',
  TOO_LONG: 'too long',
  INVALID_LENGTH: 'wrong length for its country',
};

/**
 * Parses a phone number written in international form (`+1 415 555 0100`, `+1 (415) 555-0100`, `+14155550100`)
 * into E.164. Without a default country, a number must start with `+` and its country code.
 * @returns `{ e164 }`, or `{ reason }` (a short English explanation) when the number is not a valid, assignable
 *   number of its country per libphonenumber's metadata.
 */
export function parseE164(input: string): { e164: string } | { reason: string } {
  const text = input.trim();
  if (!text.startsWith('+')) return { reason: 'write it in international form, starting with + and the country code' };
  try {
    const p = parsePhoneNumberWithError(text);
    if (p.isValid()) return { e164: p.number };
    const length = validatePhoneNumberLength(text);
    return { reason: length ? REASONS[length] ?? length : `not a valid number${p.country ? ` in ${p.country}` : ''}` };
  } catch (err) {
    if (err instanceof ParseError) return { reason: REASONS[err.message] ?? err.message };
    throw err;
  }
}

/**
 * zod schema of a phone number an API caller writes: any international form libphonenumber accepts, output as
 * E.164 (`"+1 415 555 0100"` → `"+14155550100"`); an invalid number fails with `not a valid phone number: <reason>`.
 */
export const phoneNumberInputSchema = z
  .string()
  .max(40, 'at most 40 characters')
  .transform((s, ctx) => {
    const r = parseE164(s);
    if ('e164' in r) return r.e164;
    ctx.addIssue({ code: 'custom', message: `not a valid phone number: ${r.reason}` });
    return z.NEVER;
  });

/**
 * A phone number in a URL path (`/api/phone-numbers/:number`, `/api/dnc/:number`), URL-decoded: any international
 * form libphonenumber-js accepts → E.164; else any E.164-shaped string as is (so a stored number that newer metadata
 * rejects stays reachable); else a zod issue with the reason.
 */
export const pathPhoneNumberSchema = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const r = parseE164(s);
    if ('e164' in r) return r.e164;
    if (E164_PATTERN.test(s)) return s;
    ctx.addIssue({ code: 'custom', message: `not a valid phone number: ${r.reason}` });
    return z.NEVER;
  });
