import type { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { variableName } from '../domain/template';

/** One data record of an uploaded CSV: its 1-based line number (the header is line 1) and its cells by column. */
export type CsvRow = { line: number; cells: Record<string, string> } | { line: number; error: string };

/** A CSV that cannot be read at all (no header, no required column, broken quoting): answer 400 with it. */
export class CsvFormatError extends Error {
  constructor(
    message: string,
    readonly line: number | null = null,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'CsvFormatError';
  }
}

/**
 * Streams the records of a CSV upload (RFC 4180 via csv-parse: a header row, `,` separated, quoted fields may hold
 * commas and line breaks, a UTF-8 BOM is ignored, blank lines skipped, cells trimmed). Column names are normalised
 * with `variableName` (`First Name` → `first_name`). Reads as it goes (backpressure: the next chunk is read when
 * the consumer asks for the next row), so a file of any size uses bounded memory.
 *
 * A record with another number of fields than the header yields `{ line, error }` (the caller reports it).
 * @throws CsvFormatError when the header lacks one of `required`, repeats a column, or the quoting is broken.
 */
export async function* csvRows(input: Readable, o: { required: string[] }): AsyncGenerator<CsvRow> {
  const parser = input.pipe(parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, max_record_size: 64 * 1024 }));
  input.on('error', (err) => parser.destroy(err));
  let header: string[] | null = null;
  let line = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      line = info.lines;
      if (!header) {
        header = record.map(variableName);
        const missing = o.required.filter((c) => !header!.includes(c));
        if (missing.length) throw new CsvFormatError(`the header row needs a ${missing.join(', ')} column (found: ${record.join(', ') || 'nothing'})`, line);
        const dup = header.find((h, i) => header!.indexOf(h) !== i);
        if (dup !== undefined) throw new CsvFormatError(`column ${dup || '(empty name)'} appears twice in the header row`, line);
        continue;
      }
      if (record.length !== header.length) {
        yield { line, error: `expected ${header.length} fields, found ${record.length}` };
        continue;
      }
      const cells: Record<string, string> = {};
      header.forEach((h, i) => (cells[h] = record[i]));
      yield { line, cells };
    }
  } catch (err) {
    if (err instanceof CsvError) throw new CsvFormatError(`not valid CSV: ${err.message.replace(/^Invalid Record Length: /, '')}`, (err as any).lines ?? line + 1);
    throw err;
  } finally {
    parser.destroy();
  }
  if (!header) throw new CsvFormatError('the file is empty (a header row with a phone column is required)');
}
