import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { createTestAgent, createTestCampaign, randomUsPhone } from '../../helpers/campaigns';
import { dncRoutes } from '../../../src/http/api/dnc';
import type { Role } from '../../../src/http/auth/principal';

/** The do-not-call API: add (idempotent, suppresses pending contacts everywhere), get, list pages, delete (admin), CSV import with provenance; audit. */
describe('DNC API (/api/dnc)', () => {
  let db: Knex;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let agentId: string;

  const call = async (method: string, path: string, role: Role | null, body?: unknown) => {
    const res = await fetch(`${srv.base}${path}`, { method, headers: role ? srv.as(role) : {}, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const upload = async (body: string | FormData, query = '', contentType?: string, role: Role = 'supervisor') => {
    const res = await fetch(`${srv.base}/api/dnc/import${query}`, { method: 'POST', headers: { 'x-test-role': role, ...(contentType ? { 'content-type': contentType } : {}) }, body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const at = (n: string) => `/api/dnc/${encodeURIComponent(n)}`;
  const stateOf = async (campaignId: string, phone: string) => (await db('campaign_contacts').where({ campaign_id: campaignId, phone }).first('state')).state;

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    srv = await serveRoutes(dncRoutes({ db }));
  });
  afterAll(async () => {
    await srv.close();
    await db.destroy();
  });

  it('adds a number (E.164, provenance = actor) → 201, again → 200 keeping the first entry; pending and retry-scheduled contacts in every campaign become suppressed', async () => {
    const n = randomUsPhone();
    const written = `+1 (${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}`;
    // One contact per campaign and phone: each state in its own campaign.
    const states = ['pending', 'retry-scheduled', 'done', 'in-progress'];
    const campaigns = await Promise.all(states.map(() => createTestCampaign(db, agentId)));
    for (let i = 0; i < 4; i++) await db('campaign_contacts').insert({ campaign_id: campaigns[i].id, phone: n, timezones: ['America/Los_Angeles'], state: states[i] });
    const r = await call('POST', '/api/dnc', 'supervisor', { number: written, reason: 'asked' });
    expect(r.status).toBe(201);
    expect(r.body.entry).toMatchObject({ number: n, reason: 'asked', source: 'api', provenance: { actor: { kind: 'user', id: 'test-supervisor', label: 'supervisor@test.example' } } });
    expect(await Promise.all(campaigns.map((c) => stateOf(c.id, n)))).toEqual(['suppressed', 'suppressed', 'done', 'in-progress']);
    const again = await call('POST', '/api/dnc', 'admin', { number: n, reason: 'other' });
    expect([again.status, again.body.entry.reason]).toEqual([200, 'asked']);
    expect((await call('GET', at(n), 'viewer')).body.entry.number).toBe(n);
    expect(await db('audit_log').where({ entity_type: 'dnc', entity_id: n }).pluck('action')).toEqual(['dnc.add']);
    expect((await call('POST', '/api/dnc', 'supervisor', { number: '12345' })).status).toBe(400);
  });

  it('lists in keyset pages by number; GET of an unlisted number is 404', async () => {
    const numbers = Array.from({ length: 3 }, randomUsPhone);
    for (const n of numbers) await call('POST', '/api/dnc', 'supervisor', { number: n });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call('GET', `/api/dnc?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 'viewer');
      expect(page.body.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.entries.map((e: any) => e.number));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).toEqual(expect.arrayContaining(numbers));
    expect((await call('GET', at('+14155550000'), 'viewer')).status).toBe(404);
  });

  it('DELETE needs admin (supervisor 403), 204 then 404; audited', async () => {
    const n = randomUsPhone();
    await call('POST', '/api/dnc', 'supervisor', { number: n });
    expect((await call('DELETE', at(n), 'supervisor')).status).toBe(403);
    expect((await call('DELETE', at(n), 'admin')).status).toBe(204);
    expect((await call('DELETE', at(n), 'admin')).status).toBe(404);
    expect((await call('GET', at(n), 'viewer')).status).toBe(404);
    expect(await db('audit_log').where({ entity_type: 'dnc', entity_id: n }).orderBy('id').pluck('action')).toEqual(['dnc.add', 'dnc.remove']);
  });

  it('imports a CSV (text/csv and multipart): added, alreadyListed, line-numbered rejects, provenance { importFile, actor }; suppresses pending contacts', async () => {
    const [a, b, listed] = [randomUsPhone(), randomUsPhone(), randomUsPhone()];
    await call('POST', '/api/dnc', 'supervisor', { number: listed });
    const c = await createTestCampaign(db, agentId);
    await db('campaign_contacts').insert({ campaign_id: c.id, phone: a, timezones: ['America/Los_Angeles'] });
    const national = b.slice(2);
    const r = await upload(`name,phone\nx,${a}\ny,${national}\nz,${listed}\nw,nope\nv\n`, '?defaultRegion=US&fileName=crm-export.csv', 'text/csv');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ added: 2, alreadyListed: 1, rejectedCount: 2, rejected: [{ line: 5, reason: expect.stringContaining('phone "nope"') }, { line: 6, reason: 'expected 2 fields, found 1' }] });
    expect((await call('GET', at(b), 'viewer')).body.entry).toMatchObject({ source: 'import', provenance: { importFile: 'crm-export.csv', actor: { id: 'test-supervisor' } } });
    expect(await stateOf(c.id, a)).toBe('suppressed');

    const form = new FormData();
    const d = randomUsPhone();
    const fileName = `upload-${Date.now()}.csv`;
    form.append('file', new Blob([`phone\n${d}\n`], { type: 'text/csv' }), fileName);
    const m = await upload(form);
    expect(m.body).toMatchObject({ added: 1, alreadyListed: 0, rejectedCount: 0 });
    expect((await call('GET', at(d), 'viewer')).body.entry.provenance.importFile).toBe(fileName);
    expect(await db('audit_log').where({ entity_type: 'dnc', entity_id: fileName }).select('action', 'after')).toEqual([{ action: 'dnc.import', after: { added: 1, alreadyListed: 0, rejectedCount: 0 } }]);

    expect((await upload('number\n+14155550100\n', '', 'text/csv')).status).toBe(400);
    expect((await upload('{}', '', 'application/json')).status).toBe(415);
    expect((await upload(`phone\n${randomUsPhone()}\n`, '', 'text/csv', 'viewer')).status).toBe(403);
  });
});
