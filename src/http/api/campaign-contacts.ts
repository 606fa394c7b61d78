import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { contactFromCsv, importContacts, type ContactInput, type ImportResult } from '../../campaigns/contact-import';
import { CsvFormatError, csvRows } from '../../campaigns/csv-rows';
import { AuditRepo } from '../../db/audit';
import { CampaignContactsRepo } from '../../db/campaign-contacts';
import { CampaignsRepo } from '../../db/campaigns';
import { CONTACT_STATES, type Campaign } from '../../domain/campaign';
import { csvCell } from '../call-shapes';
import { actorOf } from './audit';
import { campaignParams } from './campaigns';
import { contactSchema, importResultSchema } from './campaign-schemas';
import { ApiError, defineRoute, errorSchema, type ApiRoute } from './route';
import { consumeUpload } from './upload-stream';
import { importOnce } from './import-idempotency';
import { streamCsv } from './csv-export';

const error = (description: string) => ({ description, schema: errorSchema });
const cell = z.string().max(2_000);

/** JSON body of a contact import. */
export const contactsJsonSchema = z
  .strictObject({
    contacts: z
      .array(
        z.strictObject({
          phone: z.string().max(64),
          name: cell.optional(),
          timezone: z.string().max(64).optional().meta({ description: 'IANA zone; default: every zone of the number.' }),
          language: z.string().max(16).optional(),
          variables: z.record(z.string().max(100), cell).optional(),
        }),
      )
      .min(1)
      .max(10_000),
  })
  .meta({ id: 'ContactsImport' });

const IMPORT_STATES = new Set(['draft', 'running', 'paused']);
const REPORT_COLUMNS = ['phone', 'name', 'state', 'attempts', 'last_outcome', 'last_call_sid', 'answered_by', 'variables'];

/**
 * Contacts of a campaign: `POST /api/campaigns/:id/contacts` (JSON, `text/csv` or a multipart `file`, streamed;
 * see `importContacts`), `GET /api/campaigns/:id/contacts?state=&limit=&cursor=` (keyset pages by contact id) and
 * `GET /api/campaigns/:id/report.csv` (streamed, one record per contact, cells guarded against formula injection
 * like the calls export). Import needs `supervisor` and a draft, running or paused campaign (409 otherwise; the state
 * is checked when the request starts) and records a `campaign.contacts_import` audit entry with its counts. A CSV
 * upload above `contactsUploadMaxBytes` (CONTACTS_UPLOAD_MAX_BYTES; default MAX_UPLOAD_BYTES) is refused with 413 and
 * imports nothing (the import's transaction rolls back at the first byte beyond it).
 */
export function campaignContactRoutes(d: { db: Knex; reportBatchSize?: number; contactsUploadMaxBytes?: number }): ApiRoute<any, any, any>[] {
  const campaigns = new CampaignsRepo(d.db);
  const contacts = new CampaignContactsRepo(d.db);
  const load = async (id: string): Promise<Campaign> => {
    const c = await campaigns.get(id);
    if (!c) throw new ApiError(404, `campaign ${id} not found`);
    return c;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/api/campaigns/:id/contacts',
      role: 'supervisor',
      tag: 'campaigns',
      summary: 'Add contacts (CSV or JSON)',
      description:
        '`text/csv` (header row; `phone` required; `name`, `timezone`, `language` optional; every other column a variable, named like `First Name` → `first_name`), a multipart `file` with such a CSV, or JSON `{ contacts }`. Streamed: any size. Numbers are normalised to E.164 (the campaign defaultRegion for national numbers); invalid rows come back with their line; duplicates merge; DNC-listed numbers are stored suppressed. All or nothing: a file that cannot be parsed changes nothing. Optional `Idempotency-Key` header (JSON bodies): a repeat with the same key and body answers the first result without importing again; another body under the key → 422.',
      params: campaignParams,
      body: contactsJsonSchema,
      bodyLimitBytes: 16 * 1024 * 1024,
      rawBodyTypes: ['text/csv', 'multipart/form-data'],
      otherBodies: {
        'text/csv': { schema: z.string().meta({ description: 'For example:\n\n```\nphone,name,timezone,plan\n+14155550123,Ada,,gold\n(212) 555-0188,Grace,America/New_York,silver\n```' }), description: 'A CSV file.' },
        'multipart/form-data': { schema: z.object({ file: z.string().meta({ format: 'binary', description: 'The CSV file.' }) }), description: 'A CSV file upload.' },
      },
      responses: {
        200: { description: 'What was stored and what was rejected.', schema: importResultSchema },
        400: error('Unreadable CSV (no phone column, broken quoting) or invalid JSON.'),
        404: error('No such campaign.'),
        409: error('The campaign is completed or cancelled.'),
        422: error('The Idempotency-Key was used with another body.'),
        413: error('The CSV is larger than CONTACTS_UPLOAD_MAX_BYTES (default 50 MB); nothing was imported.'),
        415: error('Another content type.'),
      },
      examples: {
        body: { contacts: [{ phone: '+14155550123', name: 'Ada', variables: { first_name: 'Ada', plan: 'gold' } }, { phone: '(212) 555-0188', timezone: 'America/New_York' }] },
        response: { accepted: 2, rejected: [{ line: 3, reason: 'phone "12": too short' }], rejectedCount: 1, duplicates: 0, suppressed: 0 },
      },
      handler: async ({ req, res, params, body, principal }) => {
        const c = await load(params.id);
        if (!IMPORT_STATES.has(c.state)) throw new ApiError(409, `a ${c.state} campaign takes no new contacts`);
        const target = { id: c.id, defaultRegion: c.defaultRegion };
        const audited = (source: string) => ({
          beforeCommit: (trx: Knex.Transaction, r: ImportResult) =>
            new AuditRepo(trx).record({ actor: actorOf(principal), action: 'campaign.contacts_import', entityType: 'campaign', entityId: c.id, before: null, after: { source, accepted: r.accepted, duplicates: r.duplicates, suppressed: r.suppressed, rejectedCount: r.rejectedCount } }, trx),
        });
        const key = req.get('idempotency-key');
        if (key !== undefined && (key.length === 0 || key.length > 200)) throw new ApiError(400, 'headers.idempotency-key: 1-200 characters');
        if (body) {
          const rows: ContactInput[] = body.contacts.map((x: Omit<ContactInput, 'line'>, i: number) => ({ ...x, line: i + 1 }));
          if (key === undefined) return { ...(await importContacts(d.db, target, rows, audited('json'))) };
          const audit = audited('json').beforeCommit;
          return { ...(await importOnce(d.db, c.id, key, body, (keep) => importContacts(d.db, target, rows, { beforeCommit: async (trx, r) => { await audit(trx, r); await keep(trx, r); } }))) };
        }
        if (key !== undefined) throw new ApiError(400, 'headers.idempotency-key: supported with a JSON body only (a CSV import merges duplicates, so repeating it stores nothing twice)');
        try {
          return await consumeUpload(req, res, async (input, fileName) => {
            async function* inputs() {
              for await (const r of csvRows(input, { required: ['phone'] })) yield 'error' in r ? r : contactFromCsv(r);
            }
            return { ...(await importContacts(d.db, target, inputs(), audited(fileName ?? 'text/csv'))) };
          }, { maxBytes: d.contactsUploadMaxBytes });
        } catch (err) {
          if (err instanceof CsvFormatError) throw new ApiError(400, err.message);
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/campaigns/:id/contacts',
      role: 'viewer',
      tag: 'campaigns',
      summary: 'List contacts of a campaign (keyset pages)',
      params: campaignParams,
      query: z.strictObject({
        state: z.enum(CONTACT_STATES).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        cursor: z.string().regex(/^[1-9]\d{0,18}$/, 'cursor is not a nextCursor value').optional().meta({ description: '`nextCursor` of the previous page.' }),
      }),
      responses: { 200: { description: 'A page by contact id; nextCursor null on the last.', schema: z.object({ contacts: z.array(contactSchema), nextCursor: z.string().nullable() }) }, 404: error('No such campaign.') },
      examples: { response: { contacts: [contactSchema.meta()!.example], nextCursor: null } },
      handler: async ({ params, query }) => {
        const c = await load(params.id);
        const rows = await contacts.list(c.id, { state: query.state, afterId: query.cursor, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        return { contacts: page, nextCursor: rows.length > query.limit ? page[page.length - 1].id : null };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/campaigns/:id/report.csv',
      role: 'viewer',
      tag: 'campaigns',
      summary: 'Campaign report as CSV (one record per contact, streamed)',
      description: `Columns: ${REPORT_COLUMNS.join(', ')} (answered_by of the last attempt; variables as JSON). Cells a spreadsheet would evaluate get a leading '.`,
      params: campaignParams,
      responses: { 200: { description: 'CSV (RFC 4180, UTF-8, header row), by contact id.', contentType: 'text/csv' }, 404: error('No such campaign.') },
      handler: async ({ req, res, params }) => {
        const c = await load(params.id);
        const rows = contacts.stream(c.id, { batchSize: d.reportBatchSize ?? 1000 });
        await streamCsv(req, res, {
          filename: `campaign-${c.id}.csv`,
          columns: REPORT_COLUMNS,
          rows,
          record: (x) => [x.phone, x.name, x.state, x.attempts, x.lastOutcome, x.lastCallSid, x.lastAnsweredBy, JSON.stringify(x.variables)].map(csvCell),
          what: 'campaign report',
        });
        return undefined;
      },
    }),
  ];
}
