import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { CampaignsRepo } from '../../db/campaigns';
import { AgentsRepo } from '../../db/agents';
import { InboundTriggersRepo, type InboundTrigger } from '../../db/inbound-triggers';
import { phoneNumberInputSchema } from '../../domain/phone-number';
import { newWebhookSecret, type SecretBox } from '../../webhooks/secret-box';
import { AuditRepo } from '../../db/audit';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';

const iso = z.iso.datetime({ offset: true });
const path = z.string().trim().min(1).max(200).meta({ description: 'Dotted path into the JSON body, e.g. `properties.phone` or `items.0.phone`.' });
const actionSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('enroll'), campaignId: z.string().min(1).max(64) }),
    z.strictObject({ type: z.literal('call'), agentId: z.string().min(1).max(100), fromNumber: phoneNumberInputSchema.optional() }),
  ])
  .meta({ id: 'InboundTriggerAction', description: '`enroll` the contact into a campaign (draft, running or paused) or place a `call` with an agent.' });
const actionOutSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('enroll'), campaignId: z.string().min(1).max(64) }),
    z.object({ type: z.literal('call'), agentId: z.string(), fromNumber: z.string().optional().meta({ description: 'E.164.' }) }),
  ])
  .meta({ id: 'InboundTriggerActionOut' });
const mappingSchema = z
  .strictObject({ phone: path, name: path.optional(), variables: z.record(z.string().min(1).max(100), path).optional() })
  .meta({ id: 'InboundTriggerMapping', description: 'Where the phone number, name and template variables are in the payload.' });

const EXAMPLE = {
  id: '2c5e0e7a-3a3e-4f0c-9b55-0e2b8a6f1d11',
  name: 'HubSpot: new lead → renewals',
  kind: 'hubspot' as const,
  action: { type: 'enroll' as const, campaignId: '7a0c9a52-2f49-4a0b-8d8e-3b3f1c2d4e5f' },
  mapping: { phone: 'properties.phone', variables: { first_name: 'properties.firstname' } },
  enabled: true,
  receiverPath: '/integrations/hubspot/webhook?trigger=2c5e0e7a-3a3e-4f0c-9b55-0e2b8a6f1d11',
  createdAt: '2026-12-03T10:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};

/** A trigger as responses show it: never its secret. `receiverPath` is where the sender must POST (append to PUBLIC_BASE_URL). */
export const inboundTriggerSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['hubspot', 'standard']),
    action: actionOutSchema,
    mapping: mappingSchema,
    enabled: z.boolean(),
    receiverPath: z.string(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'InboundTrigger', example: EXAMPLE });

const createBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['hubspot', 'standard']),
    secret: z.string().min(8).max(500).optional().meta({ description: "kind `hubspot`: the HubSpot app's client secret (required, write-only). kind `standard`: not allowed — a `whsec_` secret is generated and returned once." }),
    action: actionSchema,
    mapping: mappingSchema,
    enabled: z.boolean().optional(),
  })
  .meta({ id: 'InboundTriggerCreate' });
const patchBody = z
  .strictObject({ name: z.string().trim().min(1).max(200).optional(), secret: z.string().min(8).max(500).optional().meta({ description: 'kind `hubspot` only: a new client secret (write-only).' }), action: actionSchema.optional(), mapping: mappingSchema.optional(), enabled: z.boolean().optional() })
  .meta({ id: 'InboundTriggerPatch' });
const idParams = z.strictObject({ id: z.uuid('must be a trigger id (uuid)') });
const one = z.object({ inboundTrigger: inboundTriggerSchema });
const withSecret = z.object({ inboundTrigger: inboundTriggerSchema, secret: z.string().nullable().meta({ description: 'kind `standard`: the generated `whsec_…` signing secret, shown only here. null for `hubspot`.' }) });

const show = (t: InboundTrigger) => {
  const { secretSealed: _s, ...rest } = t;
  const receiverPath = t.kind === 'hubspot' ? `/integrations/hubspot/webhook?trigger=${t.id}` : `/integrations/webhooks/${t.id}`;
  return { ...rest, receiverPath };
};
const bad = (p: string, message: string) => reply(400, { error: `${p}: ${message}`, issues: [{ path: p, message }] });

/**
 * Inbound triggers admin API (`/api/inbound-triggers`, issue 13 §6): CRUD of the HubSpot / Standard Webhooks
 * triggers served by src/http/inbound-triggers.ts. Reads `viewer`, writes `admin`. Secrets are write-only: a HubSpot
 * client secret is given on create (and may be replaced by PATCH); a Standard Webhooks `whsec_` secret is generated
 * and returned once by create. Stored sealed with `box`; without it (no WEBHOOK_SECRETS_KEY) writes answer 503.
 * The action's campaign / agent must exist (400 otherwise). Each write records an audit entry
 * `inbound_trigger.create|update|delete` in its transaction (the trigger as responses show it: never its secret).
 */
export function inboundTriggerRoutes(d: { db: Knex; box?: SecretBox | null }): ApiRoute<any, any, any>[] {
  const repo = new InboundTriggersRepo(d.db);
  const tag = 'integrations';
  const box = () => {
    if (!d.box) throw new ApiError(503, 'inbound triggers are unavailable: the server has no WEBHOOK_SECRETS_KEY');
    return d.box;
  };
  const checkAction = async (a: z.infer<typeof actionSchema>) => {
    if (a.type === 'enroll' && !(await new CampaignsRepo(d.db).get(a.campaignId))) return bad('body.action.campaignId', `campaign ${a.campaignId} does not exist`);
    if (a.type === 'call' && !(await new AgentsRepo(d.db).get(a.agentId))) return bad('body.action.agentId', `agent ${a.agentId} does not exist`);
    return null;
  };
  const notFound = (id: string) => new ApiError(404, `inbound trigger ${id} not found`);
  const record = (trx: Knex.Transaction, p: Principal, action: 'create' | 'update' | 'delete', id: string, before: InboundTrigger | null, after: InboundTrigger | null) =>
    new AuditRepo(trx).record({ actor: actorOf(p), action: `inbound_trigger.${action}`, entityType: 'inbound_trigger', entityId: id, before: before && show(before), after: after && show(after) }, trx);
  return [
    defineRoute({
      method: 'get',
      path: '/api/inbound-triggers',
      role: 'viewer',
      tag,
      summary: 'List inbound triggers',
      responses: { 200: { description: 'Every trigger, oldest first.', schema: z.object({ inboundTriggers: z.array(inboundTriggerSchema) }) } },
      handler: async () => ({ inboundTriggers: (await repo.list()).map(show) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/inbound-triggers/:id',
      role: 'viewer',
      tag,
      summary: 'Get an inbound trigger',
      params: idParams,
      responses: { 200: { description: 'The trigger.', schema: one }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params }) => {
        const t = await repo.get(params.id);
        if (!t) throw notFound(params.id);
        return { inboundTrigger: show(t) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/inbound-triggers',
      role: 'admin',
      tag,
      summary: 'Add an inbound trigger (HubSpot workflow webhook or Standard Webhooks sender)',
      description: 'kind `hubspot` takes the app client secret; kind `standard` returns a generated `whsec_` secret once.',
      body: createBody,
      responses: { 201: { description: 'Created.', schema: withSecret }, 400: { description: 'Invalid.', schema: errorSchema }, 503: { description: 'No WEBHOOK_SECRETS_KEY.', schema: errorSchema } },
      examples: { body: { name: EXAMPLE.name, kind: 'hubspot', secret: 'your-hubspot-app-client-secret', action: EXAMPLE.action, mapping: EXAMPLE.mapping } },
      handler: async ({ body, principal }) => {
        const sealer = box();
        if (body.kind === 'hubspot' && !body.secret) return bad('body.secret', "required for kind hubspot: the HubSpot app's client secret");
        if (body.kind === 'standard' && body.secret) return bad('body.secret', 'not allowed for kind standard: the secret is generated');
        const invalid = await checkAction(body.action);
        if (invalid) return invalid;
        const secret = body.kind === 'standard' ? newWebhookSecret() : body.secret!;
        const t = await d.db.transaction(async (trx) => {
          const created = await new InboundTriggersRepo(trx).create({ id: randomUUID(), name: body.name, kind: body.kind, secretSealed: sealer.seal(secret), action: body.action, mapping: body.mapping, enabled: body.enabled ?? true });
          await record(trx, principal, 'create', created.id, null, created);
          return created;
        });
        return reply(201, { inboundTrigger: show(t), secret: body.kind === 'standard' ? secret : null }, { Location: `/api/inbound-triggers/${t.id}` });
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/inbound-triggers/:id',
      role: 'admin',
      tag,
      summary: 'Change an inbound trigger',
      params: idParams,
      body: patchBody,
      responses: { 200: { description: 'The trigger.', schema: one }, 400: { description: 'Invalid.', schema: errorSchema }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params, body, principal }) => {
        const t = await repo.get(params.id);
        if (!t) throw notFound(params.id);
        if (body.secret !== undefined && t.kind !== 'hubspot') return bad('body.secret', 'only a hubspot trigger takes a secret');
        if (body.action) {
          const invalid = await checkAction(body.action);
          if (invalid) return invalid;
        }
        const secretSealed = body.secret === undefined ? undefined : box().seal(body.secret);
        const after = await d.db.transaction(async (trx) => {
          const changed = await new InboundTriggersRepo(trx).update(t.id, { name: body.name, action: body.action, mapping: body.mapping, enabled: body.enabled, secretSealed });
          if (changed) await record(trx, principal, 'update', t.id, t, changed);
          return changed;
        });
        if (!after) throw notFound(params.id);
        return { inboundTrigger: show(after) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/inbound-triggers/:id',
      role: 'admin',
      tag,
      summary: 'Remove an inbound trigger',
      params: idParams,
      responses: { 204: { description: 'Removed.' }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params, principal }) => {
        const removed = await d.db.transaction(async (trx) => {
          const before = await new InboundTriggersRepo(trx).get(params.id);
          if (!before || !(await new InboundTriggersRepo(trx).delete(params.id))) return false;
          await record(trx, principal, 'delete', params.id, before, null);
          return true;
        });
        if (!removed) throw notFound(params.id);
        return reply(204);
      },
    }),
  ];
}
