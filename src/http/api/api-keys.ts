import { z } from 'zod';
import { Accounts, apiKeyView } from '../auth/accounts';
import type { Principal } from '../auth/principal';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';
import { API_KEY_EXAMPLE, apiKeySchema, idParams, roleSchema } from './account-schemas';

export const createApiKeyBody = z
  .strictObject({ name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'), role: roleSchema })
  .meta({ id: 'CreateApiKey' });

const createdSchema = z
  .object({
    id: z.uuid(),
    key: z.string().meta({ description: 'The key itself (`cc_` + 43 characters). Shown only in this response: store it now.' }),
    name: z.string(),
    role: roleSchema,
    prefix: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'CreatedApiKey' });

const actorOf = (p: Principal) => ({ kind: p.kind, id: p.id, label: p.label });

/**
 * `/api/api-keys` (admin only). POST `{ name, role }` → 201 `{ id, key, name, role, prefix, createdAt }`: the only
 * response that ever contains the key (only its SHA-256 is stored). GET list / GET one show `prefix` only, never the
 * key or hash. DELETE revokes (204; the key answers 401 from the next request on; revoking twice is a no-op).
 * Audited as `api_key.create` / `api_key.revoke` without the key.
 */
export function apiKeyRoutes(accounts: Accounts): ApiRoute<any, any, any>[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/api-keys',
      role: 'admin',
      tag: 'api-keys',
      summary: 'Create an API key (the key is shown once)',
      body: createApiKeyBody,
      responses: { 201: { description: 'Created; `key` is shown only here.', schema: createdSchema } },
      examples: {
        body: { name: 'CRM sync', role: 'supervisor' as const },
        response: { id: API_KEY_EXAMPLE.id, key: 'cc_Zx81QpLmT0b4hVYl3m2kq8WnRr5s9dJcE6fGa1uXyHo', name: 'CRM sync', role: 'supervisor', prefix: API_KEY_EXAMPLE.prefix, createdAt: API_KEY_EXAMPLE.createdAt },
      },
      handler: async ({ body, principal }) => {
        const { record, key } = await accounts.createApiKey(body, actorOf(principal));
        const v = apiKeyView(record);
        return reply(201, { id: v.id, key, name: v.name, role: v.role, prefix: v.prefix, createdAt: v.createdAt }, { Location: `/api/api-keys/${v.id}` });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/api-keys',
      role: 'admin',
      tag: 'api-keys',
      summary: 'List API keys (prefix only, newest first, revoked ones included)',
      responses: { 200: { description: 'Every key.', schema: z.object({ apiKeys: z.array(apiKeySchema) }) } },
      examples: { response: { apiKeys: [API_KEY_EXAMPLE] } },
      handler: async () => ({ apiKeys: (await accounts.apiKeys.list()).map(apiKeyView) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/api-keys/:id',
      role: 'admin',
      tag: 'api-keys',
      summary: 'Get an API key (prefix only)',
      params: idParams,
      responses: { 200: { description: 'The key.', schema: z.object({ apiKey: apiKeySchema }) }, 404: { description: 'No such key.', schema: errorSchema } },
      examples: { response: { apiKey: API_KEY_EXAMPLE } },
      handler: async ({ params }) => {
        const k = await accounts.apiKeys.get(params.id);
        if (!k) throw new ApiError(404, `API key ${params.id} not found`);
        return { apiKey: apiKeyView(k) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/api-keys/:id',
      role: 'admin',
      tag: 'api-keys',
      summary: 'Revoke an API key',
      params: idParams,
      responses: { 204: { description: 'Revoked (also when it already was).' }, 404: { description: 'No such key.', schema: errorSchema } },
      handler: async ({ params, principal }) => {
        const k = await accounts.revokeApiKey(params.id, actorOf(principal));
        if (!k) throw new ApiError(404, `API key ${params.id} not found`);
        return reply(204);
      },
    }),
  ];
}
