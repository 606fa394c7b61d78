import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { AuditRepo, type AuditActor } from '../../db/audit';
import type { Principal } from '../auth/principal';
import { defineRoute, type ApiRoute } from './route';

/** The audit log's actor for a principal: `{ kind, id, label }` (never its role or any secret). */
export function actorOf(p: Principal): AuditActor {
  return { kind: p.kind, id: p.id, label: p.label };
}

const ENTRY_EXAMPLE = {
  id: '42',
  at: '2026-12-02T10:00:00.000Z',
  actor: { kind: 'user', id: '7b0f3c1e-2a55-4d0b-9a43-3c1f0e6d2b10', label: 'ops@example.com' },
  action: 'phone_number.update',
  entityType: 'phone_number',
  entityId: '+14155550100',
  before: { number: '+14155550100', agentId: 'support-en', label: null },
  after: { number: '+14155550100', agentId: 'sales-en', label: null },
};

/** One audit entry as `GET /api/audit` shows it. */
export const auditEntrySchema = z
  .object({
    id: z.string().meta({ description: 'Increasing with time.' }),
    at: z.iso.datetime({ offset: true }),
    actor: z.object({
      kind: z.enum(['user', 'api_key', 'bootstrap']),
      id: z.string().meta({ description: "The user's or key's id (`bootstrap` for the API_KEY env var)." }),
      label: z.string().meta({ description: "The user's email or the key's name." }),
    }),
    action: z.string().meta({ description: '`<entity>.<verb>`, e.g. `agent.update`, `phone_number.delete`.' }),
    entityType: z.string(),
    entityId: z.string(),
    before: z.unknown().meta({ description: 'The entity before the change (secrets removed); null for a creation.' }),
    after: z.unknown().meta({ description: 'The entity after the change (secrets removed); null for a deletion.' }),
  })
  .meta({ id: 'AuditEntry', example: ENTRY_EXAMPLE });

const time = z.iso.datetime({ offset: true });
const cursor = z.string().regex(/^[1-9]\d{0,18}$/, 'cursor is not a nextCursor value');

/** Query of `GET /api/audit`. */
export const auditQuerySchema = z
  .strictObject({
    entityType: z.string().min(1).max(64).optional().meta({ description: 'e.g. `agent`, `phone_number`, `api_key`, `user`.' }),
    entityId: z.string().min(1).max(200).optional(),
    actorId: z.string().min(1).max(200).optional(),
    from: time.optional().meta({ description: 'Entries at or after this time (ISO 8601 with offset).' }),
    to: time.optional().meta({ description: 'Entries before this time.' }),
    cursor: cursor.optional().meta({ description: '`nextCursor` of the previous page.' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['to'] });

/**
 * `GET /api/audit` — the audit log, newest first, filtered (`entityType`, `entityId`, `actorId`, `from`, `to`) and
 * paged by keyset (`limit` 1..200, default 50; `nextCursor` is null on the last page).
 *
 * Role: `admin`. The log is the security record of the whole platform: it holds user and API key changes (emails,
 * roles, key names — entities only admins manage) and names every actor; supervisors manage agents and numbers but
 * not accounts, so they do not read it.
 */
export function auditRoutes(d: { db: Knex }): ApiRoute<any, any, any>[] {
  const audit = new AuditRepo(d.db);
  return [
    defineRoute({
      method: 'get',
      path: '/api/audit',
      role: 'admin',
      tag: 'audit',
      summary: 'Read the audit log',
      description: 'Who (user or API key) changed what and when, with the entity before and after (secrets removed). Newest first; keyset pages.',
      query: auditQuerySchema,
      responses: { 200: { description: 'A page of entries.', schema: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() }) } },
      examples: { response: { entries: [ENTRY_EXAMPLE], nextCursor: '41' } },
      handler: async ({ query }) => {
        const { cursor: beforeId, limit, ...filters } = query;
        const rows = await audit.list({ ...filters, beforeId, limit: limit + 1 });
        const entries = rows.slice(0, limit);
        return { entries, nextCursor: rows.length > limit ? entries[entries.length - 1].id : null };
      },
    }),
  ];
}
