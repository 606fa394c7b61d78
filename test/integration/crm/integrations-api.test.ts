import type { Knex } from 'knex';
import { loadConfig } from '../../../src/config';
import { CrmConnectorsRepo } from '../../../src/db/crm-connectors';
import { integrationRoutes } from '../../../src/http/api/integrations';
import { crmConnectorDeps } from '../../../src/webhooks/config';
import type { Resolver } from '../../../src/webhooks/ssrf';
import { serveRoutes } from '../../helpers/api-app';
import { setupTestDb } from '../../helpers/db';
import { startHubspotDouble, type HubspotDouble } from '../../doubles/hubspot-double';

const TOKEN = 'pat-na1-aaaaaaaa-2222-3333-4444-555555555555';
/** Test DNS: `meta.test` resolves to the cloud metadata address. */
const json = (r: Response): Promise<any> => r.json();
const resolver: Resolver = async (host) => {
  if (host === 'meta.test') return [{ address: '169.254.169.254', family: 4 }];
  throw new Error('ENOTFOUND');
};

describe('/api/integrations (admin; credentials write-only and encrypted at rest)', () => {
  let db: Knex;
  let hs: HubspotDouble;
  let api: Awaited<ReturnType<typeof serveRoutes>>;
  const config = loadConfig({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
  const deps = crmConnectorDeps(config, resolver);

  beforeAll(async () => {
    db = await setupTestDb();
    await db('crm_connectors').delete(); // this file owns the table in its database
    hs = await startHubspotDouble({ token: TOKEN });
    api = await serveRoutes(integrationRoutes({ db, ...deps, timeoutMs: 2_000 }));
  });
  afterAll(async () => {
    await api.close();
    await hs.close();
    await db.destroy();
  });

  const post = (path: string, body: unknown, role: 'admin' | 'supervisor' | 'viewer' = 'admin') =>
    fetch(`${api.base}${path}`, { method: 'POST', headers: api.as(role), body: JSON.stringify(body) });
  const create = async (token = TOKEN) => {
    const res = await post('/api/integrations', { kind: 'hubspot', name: 'HubSpot sales', settings: { basePath: hs.base }, credentials: { accessToken: token } });
    expect(res.status).toBe(201);
    return ((await json(res)) as { integration: { id: string } }).integration;
  };

  it('creates without ever returning the token, and stores it sealed', async () => {
    const res = await post('/api/integrations', { kind: 'hubspot', name: 'HubSpot sales', settings: { basePath: hs.base }, credentials: { accessToken: TOKEN } });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain(TOKEN);
    const { integration } = JSON.parse(text);
    expect(integration).toMatchObject({ kind: 'hubspot', name: 'HubSpot sales', enabled: true, settings: { basePath: hs.base }, credentialsSet: true, lastTestResult: null });
    expect(res.headers.get('location')).toBe(`/api/integrations/${integration.id}`);
    const row = await db('crm_connectors').where({ id: integration.id }).first();
    expect(row.credentials_enc).toMatch(/^v1\./);
    expect(row.credentials_enc).not.toContain(TOKEN);
    expect(JSON.parse(deps.box!.open(row.credentials_enc))).toEqual({ accessToken: TOKEN });
    for (const path of ['/api/integrations', `/api/integrations/${integration.id}`]) {
      const got = await fetch(`${api.base}${path}`, { headers: api.as('admin') });
      expect(got.status).toBe(200);
      expect(await got.text()).not.toContain(TOKEN);
    }
    const audit = await db('audit_log').where({ entity_id: integration.id }).select('before', 'after');
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  });

  it('is admin only', async () => {
    for (const role of ['viewer', 'supervisor'] as const) {
      expect((await fetch(`${api.base}/api/integrations`, { headers: api.as(role) })).status).toBe(403);
      expect((await post('/api/integrations', { kind: 'hubspot', name: 'x', credentials: { accessToken: TOKEN } }, role)).status).toBe(403);
    }
    expect((await fetch(`${api.base}/api/integrations`)).status).toBe(401);
  });

  it('refuses bad credentials, unknown settings, a metadata-address basePath and Salesforce credentials without an instance URL', async () => {
    const bad = await post('/api/integrations', { kind: 'hubspot', name: 'x', credentials: { token: TOKEN } });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['body.credentials.accessToken']));
    expect(JSON.stringify(body)).not.toContain(TOKEN);
    const ssrf = await post('/api/integrations', { kind: 'hubspot', name: 'x', settings: { basePath: 'http://meta.test/' }, credentials: { accessToken: TOKEN } });
    expect(ssrf.status).toBe(400);
    expect((await json(ssrf)).error).toMatch(/^body\.settings\.basePath: /);
    expect((await post('/api/integrations', { kind: 'hubspot', name: 'x', settings: { foo: 1 }, credentials: { accessToken: TOKEN } })).status).toBe(400);
    const sf = await post('/api/integrations', { kind: 'salesforce', name: 'x', credentials: {} });
    expect(sf.status).toBe(400);
    expect((await json(sf)).error).toMatch(/^body\.credentials/);
  });

  it('tests the connection: ok, then a rejected token in words an admin understands (stored on the row)', async () => {
    const good = await create();
    const ok = await post(`/api/integrations/${good.id}/test`, {});
    expect(ok.status).toBe(200);
    expect(await json(ok)).toEqual({ ok: true, message: 'Connected to HubSpot: the private app token can read contacts.' });
    expect(hs.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);

    const wrong = await create('pat-na1-bbbbbbbb-2222-3333-4444-555555555555');
    const res = await post(`/api/integrations/${wrong.id}/test`, {});
    const check = await json(res);
    expect(check).toEqual({ ok: false, message: 'HubSpot rejected the private app token (401): check that the token is current and the app has the crm.objects.contacts.read scope.' });
    const got = await json(await fetch(`${api.base}/api/integrations/${wrong.id}`, { headers: api.as('admin') }));
    expect(got.integration.lastTestResult).toEqual(check);
    expect(got.integration.lastTestAt).not.toBeNull();

    // Replacing the credentials (write-only) fixes it.
    const patch = await fetch(`${api.base}/api/integrations/${wrong.id}`, { method: 'PATCH', headers: api.as('admin'), body: JSON.stringify({ credentials: { accessToken: TOKEN } }) });
    expect(patch.status).toBe(200);
    expect(await patch.text()).not.toContain(TOKEN);
    expect((await json(await post(`/api/integrations/${wrong.id}/test`, {}))).ok).toBe(true);
  });

  it("Salesforce: the instance URL in the credentials passes the SSRF guard (create, and test connection) unless allow-listed", async () => {
    const SF_TOKEN = '00Dxx0000001gPL!AQ4AQFakeSessionToken';
    for (const [instanceUrl, why] of [['http://10.0.0.5', /host 10\.0\.0\.5 is a private address/], ['https://meta.test', /resolves to 169\.254\.169\.254, which is a linkLocal address/], ['http://[::1]:8443', /loopback/]] as const) {
      const res = await post('/api/integrations', { kind: 'salesforce', name: 'SF', credentials: { instanceUrl, accessToken: SF_TOKEN } });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error).toMatch(/^body\.credentials\.instanceUrl: /);
      expect(body.error).toMatch(why);
      expect(body.issues).toEqual([{ path: 'body.credentials.instanceUrl', message: expect.any(String) }]);
      expect(JSON.stringify(body)).not.toContain(SF_TOKEN);
    }
    // Stored before the allow-list changed (or written around the API): "test connection" refuses it in words, sends nothing.
    const repo = new CrmConnectorsRepo(db);
    const row = await repo.create({ kind: 'salesforce', name: 'SF stale', settings: {}, credentialsEnc: deps.box!.seal(JSON.stringify({ instanceUrl: 'https://meta.test', accessToken: SF_TOKEN })) });
    const check = await json(await post(`/api/integrations/${row.id}/test`, {}));
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/^Not connecting: the Salesforce instance URL is refused \(credentials\.instanceUrl\): host meta\.test resolves to 169\.254\.169\.254/);
    expect(check.message).not.toContain(SF_TOKEN);
    expect((await repo.get(row.id))!.lastTestResult).toEqual(check);
    // The allow-list (WEBHOOK_ALLOW_PRIVATE_HOSTS=127.0.0.1 here) lets a chosen private host through: created, and the
    // test gets as far as connecting (nothing listens on port 9: unreachable, not refused).
    const allowed = await post('/api/integrations', { kind: 'salesforce', name: 'SF local', credentials: { instanceUrl: 'http://127.0.0.1:9', accessToken: SF_TOKEN } });
    expect(allowed.status).toBe(201);
    const local = await json(await post(`/api/integrations/${(await json(allowed)).integration.id}/test`, {}));
    expect(local.ok).toBe(false);
    expect(local.message).not.toMatch(/^Not connecting/);
  });

  it('enables/disables, renames and deletes', async () => {
    const it0 = await create();
    const patch = await fetch(`${api.base}/api/integrations/${it0.id}`, { method: 'PATCH', headers: api.as('admin'), body: JSON.stringify({ enabled: false, name: 'Renamed' }) });
    expect((await json(patch)).integration).toMatchObject({ enabled: false, name: 'Renamed', credentialsSet: true, settings: { basePath: hs.base } });
    const row = await db('crm_connectors').where({ id: it0.id }).first();
    expect(JSON.parse(deps.box!.open(row.credentials_enc))).toEqual({ accessToken: TOKEN }); // kept
    expect((await fetch(`${api.base}/api/integrations/${it0.id}`, { method: 'DELETE', headers: api.as('admin') })).status).toBe(204);
    expect((await fetch(`${api.base}/api/integrations/${it0.id}`, { headers: api.as('admin') })).status).toBe(404);
    expect((await fetch(`${api.base}/api/integrations/not-a-uuid`, { headers: api.as('admin') })).status).toBe(400);
  });

  it("lets a viewer read a call's per-integration delivery state", async () => {
    const res = await fetch(`${api.base}/api/calls/CAnone/integrations`, { headers: api.as('viewer') });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ deliveries: [] });
  });

  it('answers 503 for writes without a credentials key', async () => {
    const noKey = await serveRoutes(integrationRoutes({ db, box: null, policy: deps.policy }));
    try {
      const res = await fetch(`${noKey.base}/api/integrations`, { method: 'POST', headers: noKey.as('admin'), body: JSON.stringify({ kind: 'hubspot', name: 'x', credentials: { accessToken: TOKEN } }) });
      expect(res.status).toBe(503);
      expect((await json(res)).error).toMatch(/CRM_CREDENTIALS_KEY/);
    } finally {
      await noKey.close();
    }
  });
});
