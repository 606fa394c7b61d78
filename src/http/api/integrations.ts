import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { CrmError } from '../../crm/connector';
import { connectorSchemas, connectorUrls, createConnector, CRM_KINDS, type CrmKindName } from '../../crm/connectors';
import { AuditRepo } from '../../db/audit';
import { CrmConnectorsRepo, viewOf, type CrmConnectorRow, type CrmConnectorView } from '../../db/crm-connectors';
import type { SecretBox } from '../../webhooks/secret-box';
import { checkWebhookUrl, SsrfError, ssrfPolicy, type SsrfPolicy } from '../../webhooks/ssrf';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { ApiError, defineRoute, errorSchema, reply, validationError, type ApiRoute } from './route';

const iso = z.iso.datetime({ offset: true });
const EXAMPLE: CrmConnectorView = {
  id: '5f0c9a3e-1b2d-4c5e-8f70-112233445566',
  kind: 'hubspot',
  name: 'HubSpot (sales portal)',
  enabled: true,
  settings: {},
  credentialsSet: true,
  lastTestAt: '2026-12-03T09:00:00.000Z',
  lastTestResult: { ok: true, message: 'Connected to HubSpot: the private app token can read contacts.' },
  createdAt: '2026-12-03T08:55:00.000Z',
  updatedAt: '2026-12-03T08:55:00.000Z',
};

const checkSchema = z.object({ ok: z.boolean(), message: z.string().meta({ description: 'What worked or failed, in words a CRM admin understands (no secrets).' }) }).meta({ id: 'ConnectionCheck' });

/** A connector as responses show it: its credentials never, only `credentialsSet`. */
export const integrationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(CRM_KINDS),
    name: z.string(),
    enabled: z.boolean(),
    settings: z.record(z.string(), z.unknown()).meta({ description: 'Non-secret settings: HubSpot `basePath` (API base URL override) and `doNotCallProperty`; Salesforce `instanceUrl`.' }),
    credentialsSet: z.boolean().meta({ description: 'Credentials are stored (encrypted); they are write-only and never returned.' }),
    lastTestAt: iso.nullable(),
    lastTestResult: checkSchema.nullable(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'CrmIntegration', example: EXAMPLE });

const name = z.string().trim().min(1).max(100);
const settings = z.record(z.string(), z.unknown()).meta({ description: 'Per kind (see CrmIntegration.settings); unknown keys are refused.' });
const credentials = z.record(z.string(), z.unknown()).meta({ description: 'Write-only. HubSpot: `{ accessToken }` (a private app token with crm.objects.contacts.read/write).' });
const createBody = z.strictObject({ kind: z.enum(CRM_KINDS), name, enabled: z.boolean().optional(), settings: settings.optional(), credentials }).meta({ id: 'CrmIntegrationCreate' });
const patchBody = z.strictObject({ name: name.optional(), enabled: z.boolean().optional(), settings: settings.optional(), credentials: credentials.optional() }).meta({ id: 'CrmIntegrationPatch' });
const idParams = z.strictObject({ id: z.uuid('must be an integration id (uuid)') });
const one = z.object({ integration: integrationSchema });
const deliverySchema = z
  .object({
    connectorId: z.uuid(),
    connectorName: z.string(),
    kind: z.enum(CRM_KINDS),
    status: z.enum(['pending', 'delivered', 'failed']),
    activityId: z.string().nullable().meta({ description: "The CRM's id of the logged activity (HubSpot call engagement, Salesforce Task)." }),
    contactId: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    deliveredAt: iso.nullable(),
  })
  .meta({ id: 'CrmIntegrationDelivery' });
/** How "test connection" names a refused URL to an admin. */
const URL_NAMES: Record<string, string> = { 'credentials.instanceUrl': 'Salesforce instance URL', 'settings.instanceUrl': 'Salesforce instance URL', 'settings.basePath': 'HubSpot API base URL', URL: 'URL' };
const notFound = (id: string) => new ApiError(404, `integration ${id} not found`);

/**
 * Native CRM integrations (`/api/integrations`, issue 13 §9), all `admin`: list, create, get, update, delete, and
 * `POST …/:id/test` (one cheap read with the stored credentials → {@link checkSchema}, also stored on the row).
 * Credentials are validated per kind (src/crm/connectors), sealed with `box` (AES-256-GCM, CRM_CREDENTIALS_KEY) and
 * never returned (`credentialsSet`); without `box` writes and tests answer 503. Every URL the server sends the
 * credentials to (src/crm/connectors `connectorUrls`: HubSpot `settings.basePath`, Salesforce
 * `credentials.instanceUrl`) passes the webhook SSRF guard (`policy`, WEBHOOK_ALLOW_PRIVATE_HOSTS): a refused one is a
 * 400 on create / update and a failed "test connection" saying which URL and why. Writes record audit entries `crm_integration.create|update|delete` (never with credentials).
 * `GET /api/calls/:callSid/integrations` (viewer) shows a call's delivery to each connector.
 */
export function integrationRoutes(d: { db: Knex; box?: SecretBox | null; policy?: SsrfPolicy; timeoutMs?: number }): ApiRoute<any, any, any>[] {
  const repo = new CrmConnectorsRepo(d.db);
  const policy = d.policy ?? ssrfPolicy([]);
  const box = () => {
    if (!d.box) throw new ApiError(503, 'CRM integrations are unavailable: the server has no CRM_CREDENTIALS_KEY');
    return d.box;
  };
  const schemasOf = (kind: CrmKindName) => {
    const s = connectorSchemas(kind);
    if (!s) throw new ApiError(400, `the ${kind} connector is not available on this server`);
    return s;
  };
  /** The first of the connector's URLs the SSRF guard refuses, with where it is stored and why; null when all pass. */
  const refusedUrl = async (settings: Record<string, unknown>, credentials: unknown): Promise<{ where: string; message: string } | null> => {
    for (const { where, url } of connectorUrls(settings, credentials)) {
      try {
        await checkWebhookUrl(url, policy);
      } catch (err) {
        if (err instanceof SsrfError) return { where, message: err.message };
        throw err;
      }
    }
    return null;
  };
  /** Validates settings and credentials for `kind`; returns a 400 reply or the parsed values. */
  const validate = async (kind: CrmKindName, s: unknown, c: unknown | undefined) => {
    const schemas = schemasOf(kind);
    const parts: Array<[string, z.ZodError]> = [];
    const ps = schemas.settings.safeParse(s ?? {});
    if (!ps.success) parts.push(['body.settings', ps.error]);
    const pc = c === undefined ? null : schemas.credentials.safeParse(c);
    if (pc && !pc.success) parts.push(['body.credentials', pc.error]);
    if (parts.length) return { bad: reply(400, validationError(parts)) };
    const parsedSettings = (ps.data ?? {}) as Record<string, unknown>;
    const refused = await refusedUrl(parsedSettings, pc?.data);
    if (refused) return { bad: reply(400, { error: `body.${refused.where}: ${refused.message}`, issues: [{ path: `body.${refused.where}`, message: refused.message }] }) };
    return { settings: parsedSettings, credentials: pc?.data };
  };
  const record = (trx: Knex.Transaction, p: Principal, action: string, id: string, before: CrmConnectorRow | null, after: CrmConnectorRow | null) =>
    new AuditRepo(trx).record(
      { actor: actorOf(p), action: `crm_integration.${action}`, entityType: 'crm_integration', entityId: id, before: before ? viewOf(before) : null, after: after ? viewOf(after) : null },
      trx,
    );
  const tag = 'integrations';

  return [
    defineRoute({
      method: 'get',
      path: '/api/integrations',
      role: 'admin',
      tag,
      summary: 'List CRM integrations',
      responses: { 200: { description: 'Every integration, oldest first (credentials never included).', schema: z.object({ integrations: z.array(integrationSchema) }) } },
      examples: { response: { integrations: [EXAMPLE] } },
      handler: async () => ({ integrations: (await repo.list()).map(viewOf) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/integrations/:id',
      role: 'admin',
      tag,
      summary: 'Get a CRM integration',
      params: idParams,
      responses: { 200: { description: 'The integration.', schema: one }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params }) => {
        const row = await repo.get(params.id);
        if (!row) throw notFound(params.id);
        return { integration: viewOf(row) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/integrations',
      role: 'admin',
      tag,
      summary: 'Add a CRM integration',
      description: 'Completed calls are logged to every enabled integration. Credentials are stored encrypted and never returned.',
      body: createBody,
      responses: { 201: { description: 'Created (`Location` names it).', schema: one }, 503: { description: 'No CRM_CREDENTIALS_KEY on the server.', schema: errorSchema } },
      examples: { body: { kind: 'hubspot', name: 'HubSpot (sales portal)', credentials: { accessToken: 'pat-na1-…' } } },
      handler: async ({ body, principal }) => {
        const sealer = box();
        const v = await validate(body.kind, body.settings, body.credentials);
        if (v.bad) return v.bad;
        return repo.transaction(async (r, trx) => {
          const row = await r.create({ kind: body.kind, name: body.name, enabled: body.enabled, settings: v.settings, credentialsEnc: sealer.seal(JSON.stringify(v.credentials)) });
          await record(trx, principal, 'create', row.id, null, row);
          return reply(201, { integration: viewOf(row) }, { Location: `/api/integrations/${row.id}` });
        });
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/integrations/:id',
      role: 'admin',
      tag,
      summary: 'Change a CRM integration',
      description: 'Absent fields are kept; `settings` replaces the settings; `credentials` replaces the stored credentials.',
      params: idParams,
      body: patchBody,
      responses: { 200: { description: 'The integration.', schema: one }, 404: { description: 'Unknown.', schema: errorSchema } },
      examples: { body: { enabled: false } },
      handler: async ({ params, body, principal }) => {
        const current = await repo.get(params.id);
        if (!current) throw notFound(params.id);
        let credentialsEnc: string | undefined;
        let newSettings: Record<string, unknown> | undefined;
        if (body.settings !== undefined || body.credentials !== undefined) {
          const sealer = body.credentials !== undefined ? box() : null;
          const v = await validate(current.kind, body.settings ?? current.settings, body.credentials);
          if (v.bad) return v.bad;
          if (body.settings !== undefined) newSettings = v.settings;
          if (sealer) credentialsEnc = sealer.seal(JSON.stringify(v.credentials));
        }
        return repo.transaction(async (r, trx) => {
          const before = await r.get(params.id, { lock: true });
          if (!before) throw notFound(params.id);
          const after = (await r.update(params.id, { name: body.name, enabled: body.enabled, settings: newSettings, credentialsEnc }))!;
          await record(trx, principal, 'update', after.id, before, after);
          return { integration: viewOf(after) };
        });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/integrations/:id',
      role: 'admin',
      tag,
      summary: 'Remove a CRM integration',
      description: 'Its stored credentials and its per-call delivery records are deleted with it.',
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
      path: '/api/integrations/:id/test',
      role: 'admin',
      tag,
      summary: 'Test a CRM integration',
      description: "One cheap read with the stored credentials. Answers 200 whether or not it worked: `ok` and a message saying what failed (e.g. a rejected token, a missing scope, an unreachable instance). The result is stored as the integration's `lastTestResult`.",
      params: idParams,
      responses: { 200: { description: 'The check.', schema: checkSchema }, 404: { description: 'Unknown.', schema: errorSchema } },
      handler: async ({ params }) => {
        const sealer = box();
        const row = await repo.get(params.id);
        if (!row) throw notFound(params.id);
        let check: { ok: boolean; message: string };
        try {
          const v = await validate(row.kind, row.settings, undefined);
          if (v.bad) check = { ok: false, message: `The integration's settings are refused: ${String((v.bad.body as { error: string }).error)}` };
          else {
            const creds = JSON.parse(sealer.open(row.credentialsEnc)) as unknown;
            const refused = await refusedUrl(row.settings, creds).catch((err: unknown) => ({ where: 'URL', message: `cannot be resolved (${err instanceof Error ? err.message : String(err)})` }));
            if (refused) check = { ok: false, message: `Not connecting: the ${URL_NAMES[refused.where] ?? refused.where} is refused (${refused.where}): ${refused.message}.` };
            else check = await createConnector(row, creds, { timeoutMs: d.timeoutMs }).testConnection();
          }
        } catch (err) {
          if (err instanceof ApiError) throw err;
          check = { ok: false, message: err instanceof CrmError ? err.message : 'The stored credentials cannot be decrypted with this server\'s CRM_CREDENTIALS_KEY: set them again.' };
        }
        await repo.recordTest(row.id, check, new Date());
        return check;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/calls/:callSid/integrations',
      role: 'viewer',
      tag,
      summary: "A call's delivery to each CRM integration",
      params: z.strictObject({ callSid: z.string().min(2).max(64) }),
      responses: { 200: { description: 'One entry per integration the call was sent to (none yet: empty).', schema: z.object({ deliveries: z.array(deliverySchema) }) } },
      handler: async ({ params }) => ({
        deliveries: (await repo.deliveriesOf(params.callSid)).map(({ callSid: _c, ...rest }) => rest),
      }),
    }),
  ];
}
