import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { phoneNumberRoutes } from '../../../src/http/api/phone-numbers';
import { AgentsRepo, type AgentInput } from '../../../src/db/agents';
import type { Role } from '../../../src/http/auth/principal';

/** A random valid US number (area code 415, exchange 555, line 01xx-09xx), in E.164 and in a spaced, dashed form. */
function randomUsNumber(): { e164: string; written: string } {
  const line = String(100 + Math.floor(Math.random() * 900)).padStart(4, '0');
  return { e164: `+1415555${line}`, written: `+1 (415) 555-${line}` };
}

describe('phone numbers API (/api/phone-numbers)', () => {
  let db: Knex;
  let agents: AgentsRepo;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let agentA: string;
  let agentB: string;
  let archived: string;
  const used: string[] = [];

  const call = async (method: string, path: string, role: Role | null, body?: unknown) => {
    const res = await fetch(`${srv.base}${path}`, { method, headers: role ? srv.as(role) : {}, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const at = (e164: string) => `/api/phone-numbers/${encodeURIComponent(e164)}`;
  const fresh = async () => {
    for (;;) {
      const n = randomUsNumber();
      if (!used.includes(n.e164) && !(await db('phone_numbers').where({ e164: n.e164 }).first())) {
        used.push(n.e164);
        return n;
      }
    }
  };
  const agent = (id: string, over: Partial<AgentInput> = {}): AgentInput => ({
    id, name: id, systemPrompt: 'x', firstMessage: 'y', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false, ...over,
  });
  const auditOf = (e164: string) => db('audit_log').where({ entity_type: 'phone_number', entity_id: e164 }).orderBy('id');

  beforeAll(async () => {
    db = await setupTestDb();
    agents = new AgentsRepo(db);
    [agentA, agentB, archived] = [uniqueSid('pa-'), uniqueSid('pb-'), uniqueSid('px-')];
    for (const id of [agentA, agentB, archived]) await agents.upsert(agent(id));
    await agents.setArchived(archived, true);
    srv = await serveRoutes(phoneNumberRoutes({ db }));
  });
  afterAll(async () => {
    await db('phone_numbers').whereIn('e164', used).delete();
    await srv.close();
    await db.destroy();
  });

  it('routes a number written in any international form, stored as E.164; reads it back', async () => {
    const n = await fresh();
    const r = await call('POST', '/api/phone-numbers', 'supervisor', { number: n.written, agentId: agentA, label: '  Support line  ' });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(at(n.e164));
    expect(r.body.phoneNumber).toMatchObject({ number: n.e164, agentId: agentA, label: 'Support line' });
    expect(await agents.forNumber(n.e164)).toMatchObject({ id: agentA });
    expect((await call('GET', at(n.e164), 'viewer')).body).toEqual(r.body);
    // The path may be written like the body (encoded), too.
    expect((await call('GET', `/api/phone-numbers/${encodeURIComponent(n.written)}`, 'viewer')).body).toEqual(r.body);
    const list = await call('GET', `/api/phone-numbers?agentId=${agentA}`, 'viewer');
    expect(list.body.phoneNumbers.map((p: { number: string }) => p.number)).toContain(n.e164);
    expect((await call('GET', '/api/phone-numbers', 'viewer')).body.phoneNumbers.length).toBeGreaterThanOrEqual(1);
    const [entry] = await auditOf(n.e164);
    expect(entry).toMatchObject({ action: 'phone_number.create', before: null, after: { number: n.e164, agentId: agentA }, actor_id: 'test-supervisor' });
  });

  it.each([
    ['too long', '+1 415 555 01000', /too long/],
    ['not a number', 'hello', /international form/],
    ['unknown country code', '+999 123456', /country code/],
    ['national form without a country code', '(415) 555-0100', /international form/],
    ['too short', '+1 415', /not a valid phone number/],
  ])('400 with a reason for an invalid number (%s)', async (_label, number, reason) => {
    const r = await call('POST', '/api/phone-numbers', 'supervisor', { number, agentId: agentA });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([{ path: 'body.number', message: expect.stringMatching(reason) }]);
  });

  it('400 on body.agentId for an unknown or archived agent, and for unknown fields', async () => {
    const n = await fresh();
    const unknown = await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: uniqueSid('nope-') });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0]).toEqual({ path: 'body.agentId', message: expect.stringMatching(/does not exist/) });
    const arch = await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: archived });
    expect(arch.status).toBe(400);
    expect(arch.body.issues[0].message).toMatch(/archived/);
    expect((await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: agentA, colour: 'blue' })).status).toBe(400);
    expect(await db('phone_numbers').where({ e164: n.e164 }).first()).toBeUndefined();
    expect(await auditOf(n.e164)).toEqual([]);
  });

  it('409 when the number is already configured (in whatever form it is written)', async () => {
    const n = await fresh();
    expect((await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: agentA })).status).toBe(201);
    const r = await call('POST', '/api/phone-numbers', 'supervisor', { number: n.written, agentId: agentB });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain(agentA);
    expect(await agents.forNumber(n.e164)).toMatchObject({ id: agentA });
  });

  it('PATCH re-routes and relabels (absent fields kept), audited with before/after; 404 / 400 cases', async () => {
    const n = await fresh();
    await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: agentA, label: 'Old' });
    const r = await call('PATCH', at(n.e164), 'supervisor', { agentId: agentB });
    expect(r.status).toBe(200);
    expect(r.body.phoneNumber).toMatchObject({ number: n.e164, agentId: agentB, label: 'Old' });
    expect(await agents.forNumber(n.e164)).toMatchObject({ id: agentB });
    expect((await call('PATCH', at(n.e164), 'supervisor', { label: null })).body.phoneNumber).toMatchObject({ agentId: agentB, label: null });
    expect((await call('PATCH', at(n.e164), 'supervisor', { agentId: agentB })).status).toBe(200); // no change: not audited

    const log = await auditOf(n.e164);
    expect(log.map((e) => e.action)).toEqual(['phone_number.create', 'phone_number.update', 'phone_number.update']);
    expect([log[1].before.agentId, log[1].after.agentId]).toEqual([agentA, agentB]);
    expect([log[2].before.label, log[2].after.label]).toEqual(['Old', null]);

    expect((await call('PATCH', at(n.e164), 'supervisor', { agentId: archived })).status).toBe(400);
    expect((await call('PATCH', at(n.e164), 'supervisor', { number: '+14155550199' })).status).toBe(400);
    expect((await call('PATCH', at((await fresh()).e164), 'supervisor', { label: 'x' })).status).toBe(404);
    const bad = await call('PATCH', '/api/phone-numbers/not-a-number', 'supervisor', { label: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('params.number');
  });

  it('DELETE → 204, audited; then 404', async () => {
    const n = await fresh();
    await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: agentA });
    const r = await call('DELETE', at(n.e164), 'supervisor');
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect((await call('GET', at(n.e164), 'viewer')).status).toBe(404);
    expect((await call('DELETE', at(n.e164), 'supervisor')).status).toBe(404);
    const log = await auditOf(n.e164);
    expect(log.map((e) => [e.action, e.after])).toEqual([['phone_number.create', expect.anything()], ['phone_number.delete', null]]);
    expect(log[1].before).toMatchObject({ number: n.e164, agentId: agentA });
  });

  it('a viewer gets 403 on every write route', async () => {
    const n = await fresh();
    await call('POST', '/api/phone-numbers', 'supervisor', { number: n.e164, agentId: agentA });
    for (const r of phoneNumberRoutes({ db }).filter((x) => x.method !== 'get')) {
      const res = await call(r.method.toUpperCase(), r.path.replace(':number', encodeURIComponent(n.e164)), 'viewer', { number: n.e164, agentId: agentB });
      expect(`${r.method} ${res.status}`).toBe(`${r.method} 403`);
    }
    expect(await agents.forNumber(n.e164)).toMatchObject({ id: agentA });
  });
});
