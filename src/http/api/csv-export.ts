import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';

/** One CSV record: cells already formatted (e.g. through `csvCell`, the formula-injection guard). */
export type CsvRecord = Array<string | number | null>;

/**
 * Streams rows as a CSV download (RFC 4180, UTF-8, header row, CRLF records; csv-stringify piped into the response
 * with backpressure, so the export is never held in memory).
 * The first row is read before the status line: a query that fails at once is still a plain 500 through the app's
 * error handler. After that, the client going away ends the export quietly; any other failure is logged with
 * `what` and aborts the response (the status is already sent), and the row iterator is closed either way.
 * Headers: `Content-Type: text/csv; charset=utf-8`, `Content-Disposition: attachment; filename="<filename>"`,
 * `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`.
 */
export async function streamCsv<T>(
  req: Request,
  res: Response,
  o: { filename: string; columns: string[]; rows: AsyncIterator<T>; record: (row: T) => CsvRecord; what: string },
): Promise<void> {
  const first = await o.rows.next();
  res.status(200).set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${o.filename}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  async function* records(): AsyncGenerator<CsvRecord> {
    for (let r = first; !r.done; r = await o.rows.next()) yield o.record(r.value);
  }
  try {
    await pipeline(Readable.from(records()), stringify({ header: true, columns: o.columns, record_delimiter: 'windows' }), res);
  } catch (err: any) {
    if (err?.code !== 'ERR_STREAM_PREMATURE_CLOSE') req.log?.error({ err }, `${o.what} failed after the headers were sent`);
    await o.rows.return?.(undefined);
  }
}
