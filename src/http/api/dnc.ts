import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { normalisePhone } from '../../campaigns/contact-import';
import { CsvFormatError, csvRows } from '../../campaigns/csv-rows';
import { AuditRepo } from '../../db/audit';
import { CampaignContactsRepo } from '../../db/campaign-contacts';
import { DncRepo, type DncEntry } from '../../db/dnc';
import { pathPhoneNumberSchema as pathNumber, phoneNumberInputSchema } from '../../domain/phone-number';
import { actorOf } from './audit';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';
import { consumeUpload } from './upload-stream';

const EXAMPLE: DncEntry = { number: '+14155550123', reason: 'asked by phone', source: 'api', provenance: { actor: { kind: 'user', id: '7b0f3c1e-2a55-4d0b-9a43-3c1f0e6d2b10', label: 'ops@example.com' } }, createdAt: '2026-12-02T10:00:00.000Z' };

/** A DNC entry as responses show it. */
export const dncEntrySchema = z
  .object({
    number: z.string().meta({ description: 'E.164.' }),
    reason: z.string().nullable(),
    source: z.enum(['api', 'import', 'opt_out']),
    provenance: z.record(z.string(), z.unknown()).meta({ description: 'Who or what listed it: `actor`, `importFile`, or the opt-out call (`callSid`, `utterance`, `campaignId`, `attemptId`).' }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'DncEntry', example: EXAMPLE });

const numberParams = z.strictObject({ number: pathNumber.meta({ description: 'International form, URL-encoded (`%2B14155550123`).' }) });
const one = z.object({ entry: dncEntrySchema });
const error = (description: string) => ({ description, schema: errorSchema });
const BATCH = 1000;

/**
 * The do-not-call list: `GET /api/dnc` (keyset pages by number), `GET /api/dnc/:number`, `POST /api/dnc`,
 * `DELETE /api/dnc/:number`, `POST /api/dnc/import` (CSV with a `phone` column, streamed; numbers without `+` are
 * read as `?defaultRegion=` when given). Reads `viewer`; adding `supervisor`; removing `admin` (it allows calls to a
 * person who asked not to be called — a legal risk — so only admins may). Adding a number moves its pending and
 * retry-scheduled contacts in every campaign to `suppressed` (removing does not undo that). Every change is audited
 * (`dnc.add`, `dnc.remove`, `dnc.import`); provenance names the actor (and the file for imports).
 */
export function dncRoutes(d: { db: Knex }): ApiRoute<any, any, any>[] {
  const dnc = new DncRepo(d.db);
  return [
    defineRoute({
      method: 'get',
      path: '/api/dnc',
      role: 'viewer',
      tag: 'dnc',
      summary: 'List the do-not-call list (by number, keyset pages)',
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        cursor: z.string().regex(/^\+\d{2,15}$/, 'cursor is not a nextCursor value').optional().meta({ description: '`nextCursor` of the previous page.' }),
      }),
      responses: { 200: { description: 'A page; nextCursor null on the last.', schema: z.object({ entries: z.array(dncEntrySchema), nextCursor: z.string().nullable() }) } },
      examples: { response: { entries: [EXAMPLE], nextCursor: null } },
      handler: async ({ query }) => {
        const rows = await dnc.list({ limit: query.limit + 1, after: query.cursor });
        const entries = rows.slice(0, query.limit);
        return { entries, nextCursor: rows.length > query.limit ? entries[entries.length - 1].number : null };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/dnc/:number',
      role: 'viewer',
      tag: 'dnc',
      summary: 'Is a number on the do-not-call list?',
      params: numberParams,
      responses: { 200: { description: 'Listed.', schema: one }, 404: error('Not listed.') },
      examples: { response: { entry: EXAMPLE } },
      handler: async ({ params }) => {
        const entry = await dnc.get(params.number);
        if (!entry) throw new ApiError(404, `${params.number} is not on the do-not-call list`);
        return { entry };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dnc',
      role: 'supervisor',
      tag: 'dnc',
      summary: 'Add a number to the do-not-call list',
      description: 'Idempotent: an already listed number keeps its first reason and provenance (200). Its pending and retry-scheduled contacts in every campaign become suppressed.',
      body: z.strictObject({ number: phoneNumberInputSchema, reason: z.string().trim().min(1).max(500).optional() }).meta({ id: 'DncAdd' }),
      responses: { 201: { description: 'Added.', schema: one }, 200: { description: 'Already listed.', schema: one } },
      examples: { body: { number: '+1 415 555 0123', reason: 'asked by phone' }, response: { entry: EXAMPLE } },
      handler: ({ body, principal }) =>
        d.db.transaction(async (trx) => {
          const { entry, created } = await new DncRepo(trx).add({ number: body.number, reason: body.reason, source: 'api', provenance: { actor: actorOf(principal) } });
          await new CampaignContactsRepo(trx).suppress([entry.number]);
          if (created) await new AuditRepo(trx).record({ actor: actorOf(principal), action: 'dnc.add', entityType: 'dnc', entityId: entry.number, before: null, after: entry }, trx);
          return reply(created ? 201 : 200, { entry }, created ? { Location: `/api/dnc/${encodeURIComponent(entry.number)}` } : undefined);
        }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/dnc/:number',
      role: 'admin',
      tag: 'dnc',
      summary: 'Remove a number from the do-not-call list (admin)',
      description: 'Suppressed contacts stay suppressed.',
      params: numberParams,
      responses: { 204: { description: 'Removed.' }, 404: error('Not listed.') },
      handler: ({ params, principal }) =>
        d.db.transaction(async (trx) => {
          const repo = new DncRepo(trx);
          const before = await repo.get(params.number);
          if (!before || !(await repo.remove(params.number))) throw new ApiError(404, `${params.number} is not on the do-not-call list`);
          await new AuditRepo(trx).record({ actor: actorOf(principal), action: 'dnc.remove', entityType: 'dnc', entityId: params.number, before, after: null }, trx);
          return reply(204);
        }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/dnc/import',
      role: 'supervisor',
      tag: 'dnc',
      summary: 'Import numbers into the do-not-call list (CSV, streamed)',
      description: '`text/csv` or a multipart `file`: a header row with a `phone` column (other columns ignored). All or nothing: an unreadable file adds nothing.',
      query: z.strictObject({
        defaultRegion: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. US').optional().meta({ description: 'Region of numbers written without +.' }),
        fileName: z.string().min(1).max(200).optional().meta({ description: 'Recorded as provenance for a text/csv body (multipart: the file name).' }),
      }),
      rawBodyTypes: ['text/csv', 'multipart/form-data'],
      otherBodies: {
        'text/csv': { schema: z.string().meta({ description: 'For example:\n\n```\nphone\n+14155550123\n+447700900123\n```' }), description: 'A CSV file.' },
        'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary' }) }), description: 'A CSV file upload.' },
      },
      responses: {
        200: { description: 'Counts; rejected rows with their line (at most 1000 listed).', schema: z.object({ added: z.number().int(), alreadyListed: z.number().int(), rejected: z.array(z.object({ line: z.number().int(), reason: z.string() })), rejectedCount: z.number().int() }) },
        400: error('Unreadable CSV.'),
        413: error('File too large.'),
        415: error('Another content type.'),
      },
      examples: { response: { added: 2, alreadyListed: 1, rejected: [{ line: 4, reason: 'phone "12": too short' }], rejectedCount: 1 } },
      handler: async ({ req, res, query, principal }) => {
        try {
          return await consumeUpload(req, res, (input, fileName) =>
            d.db.transaction(async (trx) => {
              const importFile = fileName ?? query.fileName ?? 'upload.csv';
              const provenance = { importFile, actor: actorOf(principal) };
              const out = { added: 0, alreadyListed: 0, rejected: [] as Array<{ line: number; reason: string }>, rejectedCount: 0 };
              const reject = (line: number, reason: string) => (out.rejectedCount++, out.rejected.length < 1000 && out.rejected.push({ line, reason }));
              let batch = new Set<string>();
              const flush = async () => {
                const numbers = [...batch];
                batch = new Set();
                const added = await new DncRepo(trx).addMany(numbers, { source: 'import', provenance });
                out.added += added;
                out.alreadyListed += numbers.length - added;
                await new CampaignContactsRepo(trx).suppress(numbers);
              };
              for await (const r of csvRows(input, { required: ['phone'] })) {
                if ('error' in r) {
                  reject(r.line, r.error);
                  continue;
                }
                const p = normalisePhone(r.cells.phone, query.defaultRegion ?? null);
                if ('reason' in p) reject(r.line, `phone ${JSON.stringify(r.cells.phone)}: ${p.reason}`);
                else batch.add(p.number.number);
                if (batch.size >= BATCH) await flush();
              }
              if (batch.size) await flush();
              await new AuditRepo(trx).record({ actor: actorOf(principal), action: 'dnc.import', entityType: 'dnc', entityId: importFile, before: null, after: { added: out.added, alreadyListed: out.alreadyListed, rejectedCount: out.rejectedCount } }, trx);
              return out;
            }),
          );
        } catch (err) {
          if (err instanceof CsvFormatError) throw new ApiError(400, err.message);
          throw err;
        }
      },
    }),
  ];
}
