import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { AuditRepo } from '../../db/audit';
import { WebhookEndpointsRepo, type WebhookEndpoint } from '../../db/webhook-endpoints';
import { WebhookOutboxRepo } from '../../db/webhook-outbox';
import { webhookEventTypeSchema } from '../../domain/webhook-events';
import type { SecretBox } from '../../webhooks/secret-box';
import { newWebhookSecret } from '../../webhooks/secret-box';
import { checkWebhookUrl, SsrfError, ssrfPolicy, type SsrfPolicy } from '../../webhooks/ssrf';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';

/** How long the previous secret stays valid after a rotation (ms): 24 h; deliveries carry both signatures meanwhile. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

const iso = z.iso.datetime({ offset: true });
const EXAMPLE: WebhookEndpoint = {
  id: '0b7d7a0e-6c0e-4a53-9d0e-2f7f8f1c9a10',
  url: 'https://crm.example.com/hooks/calls',
  description: 'CRM sync',
  eventTypes: ['call.started', 'call.completed'],
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  failingSince: null,
  previousSecretExpiresAt: null,
  createdAt: '2026-12-02T10:00:00.000Z',
  updatedAt: '2026-12-02T10:00:00.000Z',
};

/** An endpoint as responses show it (never its secret). */
export const webhookEndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(webhookEventTypeSchema),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().meta({ description: 'Why it was disabled automatically (every delivery failing for WEBHOOK_DISABLE_AFTER_DAYS), or null.' }),
    disabledAt: iso.nullable(),
    failingSince: iso.nullable(),
    previousSecretExpiresAt: iso.nullable().meta({ description: 'Until then deliveries are also signed with the previous secret.' }),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'WebhookEndpoint', example: EXAMPLE });

const url = z.url({ protocol: /^https?$/ }).max(2000).meta({ description: 'http(s) URL; hosts that are or resolve to private, loopback, link-local or metadata addresses are refused.' });
const eventTypes = z.array(webhookEventTypeSchema).min(1, 'subscribe to at least one event type').max(20);
const description = z.string().trim().max(200).nullable();
const createBody = z.strictObject({ url, eventTypes, enabled: z.boolean().optional(), description: description.optional() }).meta({ id: 'WebhookEndpointCreate' });
const patchBody = z.strictObject({ url: url.optional(), eventTypes: eventTypes.optional(), enabled: z.boolean().optional(), description: description.optional() }).meta({ id: 'WebhookEndpointPatch' });
const idParams = z.strictObject({ id: z.uuid('must be an endpoint id (uuid)') });
const withSecret = z.object({
  webhookEndpoint: webhookEndpointSchema,
  secret: z.string().meta({ description: 'The Standard Webhooks signing secret (`whsec_…`). Shown only in this response: store it now.' }),
});
const deliverySchema = z
  .object({
    id: z.string(),
    endpointId: z.uuid(),
    eventId: z.string().meta({ description: 'The `webhook-id` (the same on retries and replays).' }),
    type: webhookEventTypeSchema,
    sequence: z.number().int(),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: iso,
    deliveredAt: iso.nullable(),
    log: z.array(z.object({ attempt: z.number().int(), at: iso, statusCode: z.number().int().nullable(), latencyMs: z.number().int(), responseExcerpt: z.string().nullable(), error: z.string().nullable() })),
  })
  .meta({ id: 'WebhookDelivery' });
const notFound = (id: string) => new ApiError(404, `webhook endpoint ${id} not found`);

/**
 * Webhook endpoints (`/api/webhook-endpoints`): where the event catalog's events go (src/domain/webhook-events.ts).
 * Reads need `viewer`, writes `admin`. The signing secret is generated here, returned once (create, rotate) and
 * stored encrypted (`box`); without `box` (production without WEBHOOK_SECRETS_KEY) creating one answers 503.
 * URLs pass the SSRF guard (`policy`) on create and update (400 naming the refused address). Every write records
 * an audit entry (`webhook_endpoint.create|update|delete|rotate_secret|replay`) in its transaction. Deliveries
 * and replays: `GET …/:id/deliveries`, `POST /api/webhook-deliveries/:id/replay`, `POST …/:id/replay { from, to }`.
 */
export function webhookEndpointRoutes(d: { db: Knex; box?: SecretBox | null; policy?: SsrfPolicy }): ApiRoute<any, any, any>[] {
  const repo = new WebhookEndpointsRepo(d.db);
  const policy = d.policy ?? ssrfPolicy([]);
  const box = () => {
    if (!d.box) throw new ApiError(503, 'webhook endpoints are unavailable: the server has no WEBHOOK_SECRETS_KEY');
    return d.box;
  };
  const checkUrl = async (u: string) => {
    try {
      await checkWebhookUrl(u, policy);
    } catch (err) {
      if (err instanceof SsrfError) return reply(400, { error: `body.url: ${err.message}`, issues: [{ path: 'body.url', message: err.message }] });
      throw err;
    }
    return null;
  };
  const record = (trx: Knex.Transaction, p: Principal, action: string, id: string, before: unknown, after: unknown) =>
    new AuditRepo(trx).record({ actor: actorOf(p), action: `webhook_endpoint.${action}`, entityType: 'webhook_endpoint', entityId: id, before, after }, trx);
  const tag = 'webhooks';

  return [
    defineRoute({
      method: 'get',
      path: '/api/webhook-endpoints',
      role: 'viewer',
      tag,
      summary: 'List webhook endpoints',
      responses: { 200: { description: 'Every endpoint, oldest first.', schema: z.object({ webhookEndpoints: z.array(webhookEndpointSchema) }) } },
      examples: { response: { webhookEndpoints: [EXAMPLE] } },
      handler: async () => ({ webhookEndpoints: await repo.list() }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhook-endpoints/:id',
      role: 'viewer',
      tag,
      summary: 'Get a webhook endpoint',
      params: idParams,
      responses: { 200: { description: 'The endpoint.', schema: z.object({ webhookEndpoint: webhookEndpointSchema }) }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params }) => {
        const ep = await repo.get(params.id);
        if (!ep) throw notFound(params.id);
        return { webhookEndpoint: ep };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhook-endpoints',
      role: 'admin',
      tag,
      summary: 'Add a webhook endpoint',
      description: 'Returns the signing secret once. Verify deliveries with any Standard Webhooks library.',
      body: createBody,
      responses: { 201: { description: 'Created (`Location` names it).', schema: withSecret }, 503: { description: 'No WEBHOOK_SECRETS_KEY on the server.', schema: errorSchema } },
      examples: { body: { url: EXAMPLE.url, eventTypes: EXAMPLE.eventTypes, description: 'CRM sync' } },
      handler: async ({ body, principal }) => {
        const sealer = box();
        const bad = await checkUrl(body.url);
        if (bad) return bad;
        const secret = newWebhookSecret();
        return repo.transaction(async (r, trx) => {
          const ep = await r.create({ url: body.url, description: body.description ?? null, eventTypes: body.eventTypes, enabled: body.enabled, secretEnc: sealer.seal(secret) });
          await record(trx, principal, 'create', ep.id, null, ep);
          return reply(201, { webhookEndpoint: ep, secret }, { Location: `/api/webhook-endpoints/${ep.id}` });
        });
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/webhook-endpoints/:id',
      role: 'admin',
      tag,
      summary: 'Change a webhook endpoint',
      description: 'Absent fields are kept. `enabled: true` re-enables an endpoint that was disabled automatically.',
      params: idParams,
      body: patchBody,
      responses: { 200: { description: 'The endpoint.', schema: z.object({ webhookEndpoint: webhookEndpointSchema }) }, 404: { description: 'Unknown.', schema: errorSchema } },
      examples: { body: { enabled: false } },
      handler: async ({ params, body, principal }) => {
        if (body.url !== undefined) {
          const bad = await checkUrl(body.url);
          if (bad) return bad;
        }
        return repo.transaction(async (r, trx) => {
          const before = await r.get(params.id, { lock: true });
          if (!before) throw notFound(params.id);
          const after = (await r.update(params.id, body))!;
          await record(trx, principal, 'update', after.id, before, after);
          return { webhookEndpoint: after };
        });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/webhook-endpoints/:id',
      role: 'admin',
      tag,
      summary: 'Remove a webhook endpoint',
      description: 'Its deliveries and their log are deleted with it.',
      params: idParams,
      responses: { 204: { description: 'Removed.' }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: ({ params, principal }) =>
        repo.transaction(async (r, trx) => {
          const before = await r.delete(params.id);
          if (!before) throw notFound(params.id);
          await record(trx, principal, 'delete', before.id, before, null);
          return reply(204);
        }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhook-endpoints/:id/rotate-secret',
      role: 'admin',
      tag,
      summary: "Rotate an endpoint's signing secret",
      description: 'Returns the new secret once. For 24 h deliveries carry two signatures (new and previous secret), so the receiver can switch at its pace.',
      params: idParams,
      responses: { 200: { description: 'The new secret.', schema: withSecret }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params, principal }) => {
        const sealer = box();
        const secret = newWebhookSecret();
        return repo.transaction(async (r, trx) => {
          const before = await r.get(params.id, { lock: true });
          if (!before) throw notFound(params.id);
          const after = (await r.rotate(params.id, sealer.seal(secret), new Date(Date.now() + SECRET_OVERLAP_MS)))!;
          await record(trx, principal, 'rotate_secret', after.id, null, { previousSecretExpiresAt: after.previousSecretExpiresAt });
          return { webhookEndpoint: after, secret };
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/webhook-endpoints/:id/deliveries',
      role: 'viewer',
      tag,
      summary: "An endpoint's deliveries with their attempt log",
      params: idParams,
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50), beforeId: z.string().regex(/^\d+$/).optional().meta({ description: 'The last id of the previous page.' }) }),
      responses: { 200: { description: 'Newest first.', schema: z.object({ deliveries: z.array(deliverySchema) }) }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params, query }) => {
        if (!(await repo.get(params.id))) throw notFound(params.id);
        return { deliveries: await new WebhookOutboxRepo(d.db).deliveries(params.id, { limit: query.limit, beforeId: query.beforeId }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhook-deliveries/:id/replay',
      role: 'admin',
      tag,
      summary: 'Send one delivery again',
      description: 'Queues the same event (same `webhook-id` and body, freshly signed) to the same endpoint as a new delivery.',
      params: z.strictObject({ id: z.string().regex(/^\d+$/, 'must be a delivery id') }),
      responses: { 202: { description: 'Queued.', schema: z.object({ replayed: z.number().int() }) }, 404: { description: 'Unknown delivery.', schema: errorSchema } },
      handler: async ({ params, principal }) =>
        d.db.transaction(async (trx) => {
          const del = await new WebhookOutboxRepo(trx).delivery(params.id);
          if (!del) throw new ApiError(404, `webhook delivery ${params.id} not found`);
          const n = await new WebhookOutboxRepo(trx).replay(trx, del.endpointId, { deliveryId: params.id });
          await record(trx, principal, 'replay', del.endpointId, null, { deliveryId: params.id });
          return reply(202, { replayed: n });
        }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/webhook-endpoints/:id/replay',
      role: 'admin',
      tag,
      summary: 'Send the events of a time range again',
      description: 'Every event this endpoint was sent (or due) with `from ≤ created < to` is queued again, with its original `webhook-id`.',
      params: idParams,
      body: z.strictObject({ from: iso, to: iso }).refine((b) => b.from < b.to, { message: '`from` must be before `to`', path: ['to'] }),
      responses: { 202: { description: 'Queued.', schema: z.object({ replayed: z.number().int() }) }, 404: { description: 'Unknown.', schema: errorSchema } },
      examples: { body: { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' } },
      handler: async ({ params, body, principal }) =>
        d.db.transaction(async (trx) => {
          if (!(await new WebhookEndpointsRepo(trx).get(params.id))) throw notFound(params.id);
          const n = await new WebhookOutboxRepo(trx).replay(trx, params.id, { from: new Date(body.from), to: new Date(body.to) });
          await record(trx, principal, 'replay', params.id, null, body);
          return reply(202, { replayed: n });
        }),
    }),
  ];
}
