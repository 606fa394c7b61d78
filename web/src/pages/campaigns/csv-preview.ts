/**
 * The contacts step's CSV preview, parsed in the browser: the header and the first rows only (RFC 4180: commas,
 * double quotes, `""` escapes, CRLF or LF; a quoted field may span lines). The server parses the whole file again
 * (csv-parse) and answers each bad row with its line; the browser only maps columns and rewrites the header line.
 */

/** What a CSV column becomes on the server (POST /api/campaigns/:id/contacts): a fixed field, or a variable. */
export type ColumnTarget = 'phone' | 'name' | 'timezone' | 'language' | 'variable';

/** The fixed server columns (issue 11 "Names": `phone` required; `name`, `timezone`, `language` optional). */
export const FIXED_TARGETS: readonly ColumnTarget[] = ['phone', 'name', 'timezone', 'language'];

/** A parsed preview: the header cells, up to `maxRows` records after it, and where the header line ends (chars). */
export interface CsvPreview {
  header: string[];
  rows: string[][];
  headerEnd: number;
}

/**
 * Parses the header record and up to `maxRows` following records of `text` (a leading UTF-8 BOM is skipped).
 * @throws Error `the file is empty` / `unterminated quoted field on line N` (the server would refuse it too).
 */
export function parseCsvPreview(text: string, maxRows = 5): CsvPreview {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const records: string[][] = [];
  let headerEnd = -1;
  let line = 1;
  while (i < text.length && records.length < maxRows + 1) {
    const record: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        const startLine = line;
        i++;
        for (;;) {
          if (i >= text.length) throw new Error(`unterminated quoted field on line ${startLine}`);
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (text[i] === '\n') line++;
          cell += text[i++];
        }
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      }
      record.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    if (headerEnd < 0) headerEnd = i;
    if (!(record.length === 1 && record[0] === '')) records.push(record);
  }
  if (!records.length) throw new Error('the file is empty');
  return { header: records[0].map((h) => h.trim()), rows: records.slice(1), headerEnd };
}

/** A guess of each column's target from its header ("Phone Number" → phone, "tz" → timezone, else variable). */
export function guessTargets(header: string[]): ColumnTarget[] {
  const taken = new Set<ColumnTarget>();
  return header.map((h) => {
    const k = h.toLowerCase().replace(/[^a-z]/g, '');
    const t: ColumnTarget = /^(phone|phonenumber|number|mobile|tel|telephone)$/.test(k)
      ? 'phone'
      : /^(name|fullname|contactname)$/.test(k)
        ? 'name'
        : /^(timezone|tz|zone)$/.test(k)
          ? 'timezone'
          : /^(language|lang|locale)$/.test(k)
            ? 'language'
            : 'variable';
    if (t !== 'variable' && taken.has(t)) return 'variable';
    taken.add(t);
    return t;
  });
}

/** Problems of a mapping (exactly one phone column; each fixed field at most once; named variable columns). */
export function mappingProblems(header: string[], targets: ColumnTarget[]): string[] {
  const out: string[] = [];
  const phones = targets.filter((t) => t === 'phone').length;
  if (phones === 0) out.push('Map one column to phone.');
  for (const f of FIXED_TARGETS) if (targets.filter((t) => t === f).length > 1) out.push(`Only one column can be ${f}.`);
  header.forEach((h, i) => {
    if (targets[i] === 'variable' && !h) out.push(`Column ${i + 1} has no header name: map it to a field or name it in the file.`);
    if (targets[i] === 'variable' && FIXED_TARGETS.includes(h.toLowerCase() as ColumnTarget)) out.push(`Column "${h}" would be read as ${h.toLowerCase()}: map it to ${h.toLowerCase()}.`);
  });
  return out;
}

/** Quotes a header cell when it needs it (comma, quote, line break). */
const cell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * The file with its header line replaced by the mapped names (fixed targets by their server name, variables keep
 * theirs). The data lines are untouched, so the server's line numbers are the file's.
 */
export function remapCsv(text: string, preview: CsvPreview, targets: ColumnTarget[]): string {
  const names = preview.header.map((h, i) => (targets[i] === 'variable' ? h : targets[i]));
  return `${names.map(cell).join(',')}\n${text.slice(preview.headerEnd)}`;
}
