import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { setupTestDb } from '../../helpers/db';
import { startTestApi, TEST_API_KEY, type TestApi } from '../../helpers/auth-api';
import { checkExamples, checkSpecCovers } from '../../helpers/openapi-check';
import { managementRoutes } from '../../../src/http/api';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { createKnowledgeRouter } from '../../../src/http/routes/knowledge';
import { createKnowledgeQueue, type KnowledgeQueue } from '../../../src/jobs/knowledge-queue';
import { roleAllows, ROLES } from '../../../src/http/auth/principal';

/**
 * The API as the server assembles it (account routes, management routes, knowledge router, OpenAPI), with the real
 * authentication: the spec covers every route and its examples validate; each role gets 403 exactly where it is
 * too weak, on every route.
 */
describe('the assembled management API', () => {
  let db: Knex;
  let api: TestApi;
  let redis: Redis;
  let queue: KnowledgeQueue;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    db = await setupTestDb();
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    queue = createKnowledgeQueue(redis, { prefix: `test-assembled-${process.pid}` });
    const agents = new AgentsRepo(db);
    api = await startTestApi({
      db,
      routes: managementRoutes({ db, calls: new CallsRepo(db) }),
      routers: [createKnowledgeRouter({ db, agents, vectors: new PostgresVectorStore(db), queue })],
    });
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    redis?.disconnect();
    await api?.close();
    await db?.destroy();
  });

  it('GET /api/openapi.json describes every mounted route, and every example in it validates', async () => {
    const res = await fetch(`${api.base}/api/openapi.json`, { headers: bearer(TEST_API_KEY) });
    expect(res.status).toBe(200);
    const doc: any = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    // Resources of issue 10, each present.
    for (const p of ['/api/auth/login', '/api/me', '/api/users', '/api/api-keys', '/api/agents', '/api/phone-numbers', '/api/calls', '/api/calls.csv', '/api/audit', '/api/openapi.json', '/api/agents/{agentId}/knowledge']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(checkSpecCovers(api.api.routes, doc)).toEqual([]);
    expect(checkExamples(api.api.routes, doc)).toEqual([]);
  });

  it('documents the inbound trigger receivers as signature-verified (no session, no role), with their headers and answers', async () => {
    const doc: any = await (await fetch(`${api.base}/api/openapi.json`, { headers: bearer(TEST_API_KEY) })).json();
    const hs = doc.paths['/integrations/hubspot/webhook'].post;
    expect(hs.security).toEqual([{ hubspotSignatureV3: [] }]);
    expect(hs['x-required-role']).toBeUndefined();
    expect(doc.components.securitySchemes.hubspotSignatureV3).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-HubSpot-Signature-v3' });
    expect(hs.parameters.map((p: any) => [p.in, p.name])).toEqual(expect.arrayContaining([['query', 'trigger'], ['header', 'X-HubSpot-Request-Timestamp']]));
    expect(Object.keys(hs.responses).sort()).toEqual(['200', '401', '404', '409', '413', '422', '429', '502', '503']);
    const std = doc.paths['/integrations/webhooks/{triggerId}'].post;
    expect(std.security).toEqual([{ standardWebhooksSignature: [] }]);
    expect(doc.components.securitySchemes.standardWebhooksSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'webhook-signature' });
    expect(std.parameters.map((p: any) => [p.in, p.name])).toEqual(expect.arrayContaining([['path', 'triggerId'], ['header', 'webhook-id'], ['header', 'webhook-timestamp']]));
    expect(Object.keys(std.responses)).not.toContain('403');
    expect(Object.keys(std.requestBody.content)).toEqual(['application/json']);
  });

  it('the OpenAPI document and the reference page need authentication', async () => {
    expect((await fetch(`${api.base}/api/openapi.json`)).status).toBe(401);
    expect((await fetch(`${api.base}/api/docs/`)).status).toBe(401);
    expect((await fetch(`${api.base}/api/docs/`, { headers: bearer(TEST_API_KEY) })).status).toBe(200);
  });

  it('walks the whole route table for each role: 403 exactly where the role is too weak; a viewer can write nothing', async () => {
    // Login, and the inbound trigger receivers (verified by a signature, not a role), have no role to walk.
    const routes = api.api.routes.filter((r) => r.path !== '/api/auth/login' && !r.signature);
    expect(routes.filter((r) => r.method !== 'get').length).toBeGreaterThanOrEqual(15);
    for (const role of ROLES) {
      const created = await fetch(`${api.base}/api/api-keys`, { method: 'POST', headers: bearer(TEST_API_KEY), body: JSON.stringify({ name: `walk ${role}`, role }) });
      const { key } = (await created.json()) as { key: string };
      for (const r of routes) {
        const path = r.path.replace(/:\w+/g, 'x-unknown-id');
        const res = await fetch(`${api.base}${path}`, { method: r.method.toUpperCase(), headers: bearer(key), ...(r.method === 'get' ? {} : { body: '{}' }) });
        const seen = [role, r.method, r.path, res.status === 403 ? 403 : 'not 403'];
        expect(seen).toEqual([role, r.method, r.path, roleAllows(role, r.role) ? 'not 403' : 403]);
        // Logging out is the one non-GET a viewer may do (it changes no data).
        if (role === 'viewer' && r.method !== 'get' && r.path !== '/api/auth/logout') expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 403]);
      }
    }
  });
});
