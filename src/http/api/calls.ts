import { z } from 'zod';
import type { CallsRepo } from '../../db/calls';
import { ApiError, defineRoute, errorSchema, type ApiRoute } from './route';
import { streamCsv } from './csv-export';
import { callFilters, exportCallsQuery, listCallsQuery } from './call-query';
import {
  CALL_CSV_COLUMNS,
  callCsvRecord,
  callDetailSchema,
  callPageSchema,
  asCallDetailBody,
  callSummarySchema,
  decodeCallCursor,
  encodeCallCursor,
  toCallSummary,
} from '../call-shapes';

/** `:callSid` path parameter: validated before any query. */
export const callSidParams = z.strictObject({
  callSid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'callSid must be 1-64 letters, digits, _ or -'),
});

/** Rows per keyset batch of the CSV export (without / with the transcript column). */
const CSV_BATCH = 500;
const CSV_TRANSCRIPT_BATCH = 100;

/**
 * The `calls` resource of the management API (route table, role `viewer` for all):
 *
 * - `GET /api/calls` → `{ calls: CallSummary[], nextCursor }`, newest first, filtered (see `listCallsQuery`: agentId,
 *   direction, status, language, from/to, csatMin/csatMax, q full-text over the transcript), keyset pages: pass
 *   `nextCursor` as `cursor` with the same filters; it is null on the last page. 400 `{ error, issues }` on a bad
 *   query (unknown parameter, bad date, empty range …).
 * - `GET /api/calls.csv` → the same filters as a streamed CSV download (RFC 4180, CRLF, header row,
 *   `CALL_CSV_COLUMNS` plus `transcript` with `?transcript=true`), read in keyset batches with backpressure: memory
 *   holds one batch, whatever the number of calls. Cells that a spreadsheet would evaluate get a leading `'`
 *   (OWASP CSV injection, see `csvCell`). A database failure before the first row is a normal 500; one after the
 *   headers were sent aborts the response (the client sees an incomplete chunked body, never a short "complete" file).
 * - `GET /api/calls/:callSid` → `CallDetail` (exactly `CallsRepo.detail()`); 400 on a malformed callSid, 404 when unknown.
 *
 * `now` dates the CSV file name (`calls-YYYY-MM-DD.csv`, UTC); `csvBatchSize` overrides the batch size (tests).
 * A campaign filter (`campaignId`) comes with the campaigns table.
 */
export function callRoutes(d: { calls: CallsRepo; now?: () => Date; csvBatchSize?: number }): ApiRoute[] {
  const now = d.now ?? (() => new Date());
  const routes = [
    defineRoute({
      method: 'get',
      path: '/api/calls',
      role: 'viewer',
      tag: 'calls',
      summary: 'List calls (filters, full-text search, keyset pages)',
      query: listCallsQuery,
      responses: { 200: { description: 'One page of calls, newest first.', schema: callPageSchema } },
      examples: { response: { calls: [callSummarySchema.meta()!.example], nextCursor: encodeCallCursor({ startedAt: '2026-12-01T15:04:05.123456Z', callSid: 'CA0123456789abcdef0123456789abcdef' }) } },
      handler: async ({ query }) => {
        const after = query.cursor === undefined ? undefined : (decodeCallCursor(query.cursor) ?? undefined);
        // One extra row tells whether another page exists.
        const rows = await d.calls.search(callFilters(query), { limit: query.limit + 1, after });
        const page = rows.slice(0, query.limit);
        return { calls: page.map(toCallSummary), nextCursor: rows.length > query.limit ? encodeCallCursor(page[page.length - 1].cursor) : null };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/calls.csv',
      role: 'viewer',
      tag: 'calls',
      summary: 'Export calls as CSV (same filters as the list, streamed)',
      query: exportCallsQuery,
      responses: { 200: { description: 'CSV (RFC 4180, UTF-8, header row), one record per call, newest first.', contentType: 'text/csv' } },
      handler: async ({ req, res, query }) => {
        const transcript = query.transcript === 'true';
        const batchSize = d.csvBatchSize ?? (transcript ? CSV_TRANSCRIPT_BATCH : CSV_BATCH);
        const rows = d.calls.stream(callFilters(query), { batchSize, transcript })[Symbol.asyncIterator]();
        const columns = transcript ? [...CALL_CSV_COLUMNS, 'transcript'] : [...CALL_CSV_COLUMNS];
        const filename = `calls-${now().toISOString().slice(0, 10)}.csv`;
        await streamCsv(req, res, { filename, columns, rows, record: (row) => callCsvRecord(row, { transcript }), what: 'calls CSV export' });
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/calls/:callSid',
      role: 'viewer',
      tag: 'calls',
      summary: 'One call with its transcript, CSAT and CRM sync state',
      params: callSidParams,
      responses: { 200: { description: 'The call.', schema: callDetailSchema }, 404: { description: 'No such call.', schema: errorSchema } },
      examples: { response: callDetailSchema.meta()!.example },
      handler: async ({ params }) => {
        const detail = await d.calls.detail(params.callSid);
        if (!detail) throw new ApiError(404, `call ${params.callSid} not found`);
        return asCallDetailBody(detail);
      },
    }),
  ];
  return routes as ApiRoute[];
}
