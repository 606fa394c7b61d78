import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { startTestApi, TEST_API_KEY, TEST_METRICS_TOKEN, type TestApi } from '../../helpers/auth-api';
import { createMetricsRouter } from '../../../src/http/routes/metrics';
import { roleAllows, ROLES } from '../../../src/http/auth/principal';
import { createMetrics } from '../../../src/metrics/metrics';

const json = (res: Response): Promise<any> => res.json();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('API keys', () => {
  let db: Knex;
  let api: TestApi;
  const bearer = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra });
  const createKey = async (name: string, role: string, key = TEST_API_KEY) =>
    fetch(`${api.base}/api/api-keys`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ name, role }) });

  beforeAll(async () => {
    db = await setupTestDb();
    const metrics = createMetrics();
    api = await startTestApi({ db, extraRouters: [createMetricsRouter({ registry: metrics.registry, token: TEST_METRICS_TOKEN })] });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
  });

  it('the bootstrap API_KEY authenticates as admin', async () => {
    const res = await fetch(`${api.base}/api/me`, { headers: bearer(TEST_API_KEY) });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ principal: { kind: 'bootstrap', id: 'bootstrap', role: 'admin', label: 'API_KEY' } });
  });

  it.each([
    ['a wrong key', 'Bearer wrong-key-0123456789', 'Bearer realm="api", error="invalid_token"'],
    ['a prefix of the bootstrap key', `Bearer ${TEST_API_KEY.slice(0, -1)}`, 'Bearer realm="api", error="invalid_token"'],
    ['an unknown cc_ key', `Bearer cc_${'A'.repeat(43)}`, 'Bearer realm="api", error="invalid_token"'],
    ['Basic auth', `Basic ${Buffer.from(`x:${TEST_API_KEY}`).toString('base64')}`, 'Bearer realm="api"'],
  ])('401 JSON with WWW-Authenticate for %s, never echoing it', async (_label, authorization, challenge) => {
    const res = await fetch(`${api.base}/api/me`, { headers: { authorization } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    const text = await res.text();
    expect(text).not.toContain(TEST_API_KEY);
    expect(JSON.parse(text).error).toEqual(expect.any(String));
  });

  it('POST shows the key once; lists and GET show only the prefix; only the SHA-256 is stored', async () => {
    const res = await createKey('CRM sync', 'supervisor');
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'id', 'key', 'name', 'prefix', 'role']);
    expect(created.key).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'CRM sync', role: 'supervisor', prefix: created.key.slice(0, 11) });
    expect(res.headers.get('location')).toBe(`/api/api-keys/${created.id}`);

    const row = await db('api_keys').where({ id: created.id }).first();
    expect(row.key_hash).toBe(sha256(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const list = await fetch(`${api.base}/api/api-keys`, { headers: bearer(TEST_API_KEY) });
    const listText = await list.text();
    expect(listText).not.toContain(created.key);
    expect(listText).not.toContain(row.key_hash);
    const mine = JSON.parse(listText).apiKeys.find((k: any) => k.id === created.id);
    expect(mine).toEqual({
      id: created.id,
      name: 'CRM sync',
      role: 'supervisor',
      prefix: created.prefix,
      createdBy: { kind: 'bootstrap', id: 'bootstrap', label: 'API_KEY' },
      createdAt: created.createdAt,
      lastUsedAt: null,
      revokedAt: null,
    });
    const one = await json(await fetch(`${api.base}/api/api-keys/${created.id}`, { headers: bearer(TEST_API_KEY) }));
    expect(one).toEqual({ apiKey: mine });
  });

  it('a key works with its role: a viewer key reads but gets 403 on writes and admin routes', async () => {
    const { key, id } = await json(await createKey('read only', 'viewer'));
    const me = await json(await fetch(`${api.base}/api/me`, { headers: bearer(key) }));
    expect(me).toEqual({ principal: { kind: 'api_key', id, role: 'viewer', label: 'read only' } });
    const write = await createKey('escalate', 'admin', key);
    expect(write.status).toBe(403);
    expect((await json(write)).error).toMatch(/admin role \(you are viewer\)/);
    expect((await fetch(`${api.base}/api/users`, { headers: bearer(key) })).status).toBe(403);
  });

  it('an admin key can manage keys; last_used_at is set on use', async () => {
    const { key, id } = await json(await createKey('automation', 'admin'));
    expect((await db('api_keys').where({ id }).first()).last_used_at).toBeNull();
    const res = await createKey('made by a key', 'viewer', key);
    expect(res.status).toBe(201);
    expect((await db('api_keys').where({ id }).first()).last_used_at).not.toBeNull();
    const made = await json(res);
    expect((await db('api_keys').where({ id: made.id }).first()).created_by).toEqual({ kind: 'api_key', id, label: 'automation' });
    // At most one write a minute per key: a use right after does not touch the row again…
    await db('api_keys').where({ id }).update({ last_used_at: new Date('2000-01-01T00:00:00Z') });
    expect((await fetch(`${api.base}/api/me`, { headers: bearer(key) })).status).toBe(200);
    expect((await db('api_keys').where({ id }).first()).last_used_at.toISOString()).toBe('2000-01-01T00:00:00.000Z');
    // …and the database throttles across instances too.
    expect(await api.accounts.apiKeys.touchLastUsed(id, 60_000)).toBe(true);
    expect(await api.accounts.apiKeys.touchLastUsed(id, 60_000)).toBe(false);
  });

  it('DELETE revokes: 204, the key is a 401 at once, the list shows revokedAt; revoking again is a no-op', async () => {
    const { key, id } = await json(await createKey('to revoke', 'supervisor'));
    expect((await fetch(`${api.base}/api/me`, { headers: bearer(key) })).status).toBe(200);
    const del = await fetch(`${api.base}/api/api-keys/${id}`, { method: 'DELETE', headers: bearer(TEST_API_KEY) });
    expect(del.status).toBe(204);
    const after = await fetch(`${api.base}/api/me`, { headers: bearer(key) });
    expect(after.status).toBe(401);
    expect((await json(after)).error).toMatch(/revoked/);
    const one = await json(await fetch(`${api.base}/api/api-keys/${id}`, { headers: bearer(TEST_API_KEY) }));
    expect(one.apiKey.revokedAt).toEqual(expect.any(String));
    expect((await fetch(`${api.base}/api/api-keys/${id}`, { method: 'DELETE', headers: bearer(TEST_API_KEY) })).status).toBe(204);
    const audit = await db('audit_log').where({ entity_type: 'api_key', entity_id: id }).orderBy('id');
    expect(audit.map((a) => a.action)).toEqual(['api_key.create', 'api_key.revoke']);
  });

  it('audit entries name the actor and never hold the key or its hash', async () => {
    const { key, id } = await json(await createKey('audited', 'viewer'));
    const hash = sha256(key);
    const [entry] = await db('audit_log').where({ entity_type: 'api_key', entity_id: id, action: 'api_key.create' });
    expect(entry).toMatchObject({ actor_kind: 'bootstrap', actor_id: 'bootstrap', actor_label: 'API_KEY' });
    expect(entry.after).toMatchObject({ id, name: 'audited', role: 'viewer', prefix: key.slice(0, 11) });
    const text = JSON.stringify(entry);
    expect(text).not.toContain(key);
    expect(text).not.toContain(hash);
  });

  it('400 for a malformed id, an unknown field or role; 404 for an unknown id', async () => {
    const bad = await fetch(`${api.base}/api/api-keys/not-a-uuid`, { headers: bearer(TEST_API_KEY) });
    expect(bad.status).toBe(400);
    expect((await json(bad)).issues[0].path).toBe('params.id');
    const unknown = await fetch(`${api.base}/api/api-keys`, { method: 'POST', headers: bearer(TEST_API_KEY), body: JSON.stringify({ name: 'x', role: 'viewer', key: 'mine' }) });
    expect(unknown.status).toBe(400);
    expect((await createKey('x', 'root')).status).toBe(400);
    expect((await fetch(`${api.base}/api/api-keys/00000000-0000-4000-8000-000000000000`, { headers: bearer(TEST_API_KEY) })).status).toBe(404);
    expect((await fetch(`${api.base}/api/api-keys/00000000-0000-4000-8000-000000000000`, { method: 'DELETE', headers: bearer(TEST_API_KEY) })).status).toBe(404);
  });

  it('walks the mounted route table for each role: 403 exactly where the role is too weak (never reaching validation)', async () => {
    const routes = api.api.routes.filter((r) => r.path !== '/api/auth/login');
    expect(routes.length).toBeGreaterThanOrEqual(11);
    for (const role of ROLES) {
      const { key } = await json(await createKey(`walk ${role}`, role));
      for (const r of routes) {
        const res = await fetch(`${api.base}${r.path.replace(/:\w+/g, '00000000-0000-4000-8000-000000000000')}`, {
          method: r.method.toUpperCase(),
          headers: bearer(key),
          ...(r.method === 'get' ? {} : { body: '{}' }),
        });
        if (roleAllows(role, r.role)) expect([role, r.method, r.path, res.status]).not.toEqual([role, r.method, r.path, 403]);
        else expect([role, r.method, r.path, res.status]).toEqual([role, r.method, r.path, 403]);
      }
    }
  });

  describe('GET /metrics', () => {
    it('takes METRICS_TOKEN', async () => {
      const res = await fetch(`${api.base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^# TYPE callcenter_active_calls gauge$/m);
    });

    it('refuses API keys, even admin ones, and the bootstrap API_KEY', async () => {
      const { key } = await json(await createKey('scraper?', 'admin'));
      for (const token of [key, TEST_API_KEY]) {
        const res = await fetch(`${api.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect(await res.text()).not.toContain('callcenter_');
      }
    });

    it('the metrics token is not an API credential', async () => {
      expect((await fetch(`${api.base}/api/me`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).status).toBe(401);
    });
  });
});
