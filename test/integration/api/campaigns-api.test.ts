import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { parseCsv } from '../../helpers/csv';
import { campaignBody, createTestAgent, createTestCampaign } from '../../helpers/campaigns';
import { campaignRoutes } from '../../../src/http/api/campaigns';
import { campaignContactRoutes } from '../../../src/http/api/campaign-contacts';
import { CampaignsRepo } from '../../../src/db/campaigns';
import type { Role } from '../../../src/http/auth/principal';

/** The campaigns resource: create/list/get/patch, the state machine, progress (counts, funnel, ETA), contacts pages, report.csv, audit, roles. */
describe('campaigns API (/api/campaigns)', () => {
  let db: Knex;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let agentId: string;
  let archived: string;

  const call = async (method: string, path: string, role: Role | null, body?: unknown) => {
    const res = await fetch(`${srv.base}${path}`, { method, headers: role ? srv.as(role) : {}, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
  };
  const addContacts = (id: string, csv: string) => fetch(`${srv.base}/api/campaigns/${id}/contacts`, { method: 'POST', headers: { 'x-test-role': 'supervisor', 'content-type': 'text/csv' }, body: csv });
  const audits = (id: string) => db('audit_log').where({ entity_type: 'campaign', entity_id: id }).orderBy('id').select('action', 'actor_id');

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    archived = await createTestAgent(db, { archived: true });
    srv = await serveRoutes([...campaignRoutes({ db }), ...campaignContactRoutes({ db, reportBatchSize: 2 })]);
  });
  afterAll(async () => {
    await srv.close();
    await db.destroy();
  });

  it('creates a draft (defaults applied, caller IDs as objects), lists it by state, reads it back with zeroed progress; audited', async () => {
    const r = await call('POST', '/api/campaigns', 'supervisor', campaignBody(agentId, { name: 'Renewals', callerIds: ['+14155550100', { number: '+14155550101', dailyCap: 50 }], maxConcurrent: undefined, cps: undefined }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'draft', name: 'Renewals', maxConcurrent: 1, cps: 1, callerIds: [{ number: '+14155550100', dailyCap: null }, { number: '+14155550101', dailyCap: 50 }], retry: { maxAttempts: 3 }, window: { blackoutDates: [] } });
    expect(r.headers.get('location')).toBe(`/api/campaigns/${r.body.id}`);
    const list = await call('GET', '/api/campaigns?state=draft', 'viewer');
    expect(list.body.campaigns.map((c: any) => c.id)).toContain(r.body.id);
    expect((await call('GET', '/api/campaigns?state=running', 'viewer')).body.campaigns.map((c: any) => c.id)).not.toContain(r.body.id);
    const one = await call('GET', `/api/campaigns/${r.body.id}`, 'viewer');
    expect(one.body).toMatchObject({
      id: r.body.id,
      counts: { pending: 0, dialing: 0, 'in-progress': 0, 'retry-scheduled': 0, done: 0, failed: 0, 'opted-out': 0, suppressed: 0 },
      funnel: { contacts: 0, dialed: 0, answered: 0, human: 0, conversation: 0, voicemail: 0, transferred: 0, completed: 0, optedOut: 0 },
      attemptsUsed: 0,
      eta: { remainingContacts: 0, seconds: 0 },
      pauseReason: null,
    });
    expect(await audits(r.body.id)).toEqual([{ action: 'campaign.create', actor_id: 'test-supervisor' }]);
  });

  it('rejects bad bodies: unknown or archived agent (400 on body.agentId), non-E.164 caller IDs, unknown fields, a window ending before it starts', async () => {
    for (const [body, path] of [
      [campaignBody('no-such-agent'), 'body.agentId'],
      [campaignBody(archived), 'body.agentId'],
      [campaignBody(agentId, { callerIds: ['415-555-0100'] }), 'body.callerIds.0'],
      [campaignBody(agentId, { extra: 1 }), 'body'],
      [campaignBody(agentId, { window: { days: ['mon'], start: '18:00', end: '09:00' } }), 'body.window.end'],
    ] as const) {
      const r = await call('POST', '/api/campaigns', 'supervisor', body);
      expect([r.status, r.body.issues[0].path]).toEqual([400, path]);
    }
  });

  it('walks the state machine: start needs contacts; running ⇄ paused; cancel; every other transition is 409 naming the state', async () => {
    const c = await createTestCampaign(db, agentId);
    const act = (a: string) => call('POST', `/api/campaigns/${c.id}/${a}`, 'supervisor');
    const noContacts = await act('start');
    expect([noContacts.status, noContacts.body.error]).toEqual([409, 'the campaign has no contacts; add contacts before starting it']);
    for (const a of ['pause', 'resume']) expect((await act(a)).body.error).toMatch(/that is draft/);
    expect((await addContacts(c.id, 'phone\n+14155550160\n')).status).toBe(200);
    const started = await act('start');
    expect([started.status, started.body.state]).toEqual([200, 'running']);
    expect(started.body.startedAt).not.toBeNull();
    for (const a of ['start', 'resume']) expect([(await act(a)).status, (await act(a)).body.error]).toEqual([409, expect.stringContaining('that is running')]);
    expect((await act('pause')).body.state).toBe('paused');
    for (const a of ['start', 'pause']) expect((await act(a)).body.error).toMatch(/that is paused/);
    await db('campaigns').where({ id: c.id }).update({ pause_reason: 'breaker: 5 failures in 60 s' });
    const resumed = await act('resume');
    expect([resumed.body.state, resumed.body.pauseReason]).toEqual(['running', null]);
    const cancelled = await act('cancel');
    expect([cancelled.body.state, cancelled.body.finishedAt === null]).toEqual(['cancelled', false]);
    for (const a of ['start', 'pause', 'resume', 'cancel']) expect([(await act(a)).status, (await act(a)).body.error]).toEqual([409, expect.stringContaining('that is cancelled')]);
    const done = await createTestCampaign(db, agentId);
    await new CampaignsRepo(db).setState(done.id, 'completed');
    for (const a of ['start', 'pause', 'resume', 'cancel']) {
      const r = await call('POST', `/api/campaigns/${done.id}/${a}`, 'supervisor');
      expect([r.status, r.body.error]).toEqual([409, expect.stringContaining('that is completed')]);
    }
    expect((await audits(c.id)).map((a) => a.action)).toEqual(['campaign.contacts_import', 'campaign.start', 'campaign.pause', 'campaign.resume', 'campaign.cancel']);
    expect((await call('POST', '/api/campaigns/nope/start', 'supervisor')).status).toBe(404);
    // A draft can be cancelled too.
    const draft = await createTestCampaign(db, agentId);
    expect((await call('POST', `/api/campaigns/${draft.id}/cancel`, 'supervisor')).body.state).toBe('cancelled');
  });

  it('PATCH: a draft changes anything; a running campaign takes pacing/window/retry/wording edits and contacts, not its agent (409 naming fields); cancelled nothing', async () => {
    const other = await createTestAgent(db);
    const c = await createTestCampaign(db, agentId);
    const draft = await call('PATCH', `/api/campaigns/${c.id}`, 'supervisor', { agentId: other, callerIds: ['+14155550111'], defaultRegion: null });
    expect(draft.body).toMatchObject({ agentId: other, callerIds: [{ number: '+14155550111', dailyCap: null }], defaultRegion: null });
    expect((await call('PATCH', `/api/campaigns/${c.id}`, 'supervisor', { agentId: archived })).status).toBe(400);
    await addContacts(c.id, 'phone\n+14155550161\n');
    await call('POST', `/api/campaigns/${c.id}/start`, 'supervisor');
    const live = await call('PATCH', `/api/campaigns/${c.id}`, 'supervisor', { maxConcurrent: 7, cps: 2.5, window: { days: ['sat'], start: '10:00', end: '12:00' }, voicemailMessage: 'Hi {{first_name}}' });
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ state: 'running', maxConcurrent: 7, cps: 2.5, window: { days: ['sat'], start: '10:00', end: '12:00' }, voicemailMessage: 'Hi {{first_name}}' });
    const frozen = await call('PATCH', `/api/campaigns/${c.id}`, 'supervisor', { agentId, callerIds: ['+14155550100'], cps: 1 });
    expect([frozen.status, frozen.body.error]).toEqual([409, expect.stringContaining('cannot change agentId, callerIds')]);
    expect((await call('GET', `/api/campaigns/${c.id}`, 'viewer')).body.cps).toBe(2.5);
    expect((await addContacts(c.id, 'phone\n+14155550162\n')).status).toBe(200);
    await call('POST', `/api/campaigns/${c.id}/cancel`, 'supervisor');
    expect((await call('PATCH', `/api/campaigns/${c.id}`, 'supervisor', { name: 'x' })).status).toBe(409);
    expect((await audits(c.id)).map((a) => a.action)).toEqual(['campaign.update', 'campaign.contacts_import', 'campaign.start', 'campaign.update', 'campaign.contacts_import', 'campaign.cancel']);
  });

  it('reports progress from contacts, attempts and calls: counts, funnel, attempts used, ETA', async () => {
    const c = await createTestCampaign(db, agentId, { maxConcurrent: 2, cps: 1 });
    const phones = Array.from({ length: 8 }, (_, i) => `+1415555017${i}`);
    await addContacts(c.id, `phone\n${phones.join('\n')}\n`);
    const ids = (await db('campaign_contacts').where({ campaign_id: c.id }).orderBy('id').select('id', 'phone')).map((r) => r.id);
    const states = ['done', 'done', 'opted-out', 'retry-scheduled', 'failed', 'in-progress', 'pending', 'pending'];
    for (let i = 0; i < 8; i++) await db('campaign_contacts').where({ id: ids[i] }).update({ state: states[i], attempts: i < 6 ? 1 : 0 });
    await db('campaign_contacts').where({ id: ids[0] }).update({ attempts: 2 });
    const t0 = new Date('2026-12-01T10:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    // contact 0: attempt 1 no-answer, attempt 2 human with a conversation and a transfer; 1: voicemail; 2: human, conversation (opted out);
    // 3: busy; 4: failed; 5: answered, AMD unknown, with a conversation (→ human).
    const attempts: Array<{ i: number; no: number; answered?: boolean; by?: string; vm?: boolean; conversation?: boolean; transfer?: boolean }> = [
      { i: 0, no: 1 },
      { i: 0, no: 2, answered: true, by: 'human', conversation: true, transfer: true },
      // The machine's greeting is stored as a caller turn: still no conversation.
      { i: 1, no: 1, answered: true, by: 'machine_end_beep', vm: true, conversation: true },
      { i: 2, no: 1, answered: true, by: 'human', conversation: true },
      { i: 3, no: 1 },
      { i: 4, no: 1 },
      { i: 5, no: 1, answered: true, by: 'unknown', conversation: true },
    ];
    for (const a of attempts) {
      const id = randomUUID();
      await db('call_attempts').insert({ id, campaign_id: c.id, contact_id: ids[a.i], attempt_no: a.no, to_number: phones[a.i], from_number: '+14155550100', agent_id: agentId, requested_at: at(0), ended_at: at(30), answered_at: a.answered ? at(5) : null, answered_by: a.by ?? null, voicemail_played: a.vm ?? null });
      if (a.answered) {
        const sid = uniqueSid('CA');
        await db('calls').insert({ call_sid: sid, agent_id: agentId, direction: 'outbound-api', from_number: '+14155550100', to_number: phones[a.i], status: 'completed', campaign_id: c.id, attempt_id: id, transfer: a.transfer ? JSON.stringify({ target: '+14155550199', reason: 'asked', summary: '', at: at(20).toISOString() }) : null });
        if (a.conversation) await db('call_turns').insert({ call_sid: sid, seq: 1, role: 'caller', text: 'hello?', start_ms: 0, end_ms: 500 });
        else await db('call_turns').insert({ call_sid: sid, seq: 1, role: 'agent', text: 'Hi, leaving a message', start_ms: 0, end_ms: 500 });
      }
    }
    const r = await call('GET', `/api/campaigns/${c.id}`, 'viewer');
    expect(r.body.counts).toEqual({ pending: 2, dialing: 0, 'in-progress': 1, 'retry-scheduled': 1, done: 2, failed: 1, 'opted-out': 1, suppressed: 0 });
    expect(r.body.funnel).toEqual({ contacts: 8, dialed: 6, answered: 4, human: 3, conversation: 3, voicemail: 1, transferred: 1, completed: 2, optedOut: 1 });
    expect(r.body.attemptsUsed).toBe(7);
    // 4 remaining; rate = min(cps 1, maxConcurrent 2 / 30 s mean) = 1/15 per s → 60 s.
    expect(r.body.eta).toEqual({ remainingContacts: 4, callsPerSecond: 0.0667, seconds: 60 });
  });

  it('pages contacts by state and streams report.csv (last attempt, answered_by, variables as JSON, formula cells guarded)', async () => {
    const c = await createTestCampaign(db, agentId);
    expect((await addContacts(c.id, 'phone,name,note\n+14155550180,"=HYPERLINK(""x"")","a, b"\n+14155550181,Bo,\n+14155550182,Cy,+1\n')).status).toBe(200);
    const [a] = await db('campaign_contacts').where({ campaign_id: c.id, phone: '+14155550180' }).select('id');
    await db('campaign_contacts').where({ id: a.id }).update({ state: 'done', attempts: 1, last_outcome: 'completed', last_call_sid: 'CAreport1' });
    await db('call_attempts').insert({ id: randomUUID(), campaign_id: c.id, contact_id: a.id, attempt_no: 1, to_number: '+14155550180', from_number: '+14155550100', agent_id: agentId, answered_by: 'human' });
    const p1 = await call('GET', `/api/campaigns/${c.id}/contacts?limit=2`, 'viewer');
    expect(p1.body.contacts.map((x: any) => x.phone)).toEqual(['+14155550180', '+14155550181']);
    const p2 = await call('GET', `/api/campaigns/${c.id}/contacts?limit=2&cursor=${p1.body.nextCursor}`, 'viewer');
    expect([p2.body.contacts.map((x: any) => x.phone), p2.body.nextCursor]).toEqual([['+14155550182'], null]);
    expect((await call('GET', `/api/campaigns/${c.id}/contacts?state=done`, 'viewer')).body.contacts.map((x: any) => x.phone)).toEqual(['+14155550180']);
    expect((await call('GET', `/api/campaigns/${c.id}/contacts?state=bogus`, 'viewer')).status).toBe(400);

    const csv = await call('GET', `/api/campaigns/${c.id}/report.csv`, 'viewer');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(csv.text.trimEnd())).toEqual([
      ['phone', 'name', 'state', 'attempts', 'last_outcome', 'last_call_sid', 'answered_by', 'variables'],
      ["'+14155550180", `'=HYPERLINK("x")`, 'done', '1', 'completed', 'CAreport1', 'human', '{"note":"a, b"}'],
      ["'+14155550181", 'Bo', 'pending', '0', '', '', '', '{}'],
      ["'+14155550182", 'Cy', 'pending', '0', '', '', '', '{"note":"+1"}'],
    ]);
    expect((await call('GET', '/api/campaigns/nope/report.csv', 'viewer')).status).toBe(404);
  });

  it('roles: viewers read, supervisors write; no principal 401', async () => {
    const c = await createTestCampaign(db, agentId);
    expect((await call('GET', `/api/campaigns/${c.id}`, null)).status).toBe(401);
    expect((await call('GET', `/api/campaigns/${c.id}/report.csv`, 'viewer')).status).toBe(200);
    expect((await call('POST', '/api/campaigns', 'viewer', campaignBody(agentId))).status).toBe(403);
    expect((await call('PATCH', `/api/campaigns/${c.id}`, 'viewer', { name: 'x' })).status).toBe(403);
    for (const a of ['start', 'pause', 'resume', 'cancel']) expect((await call('POST', `/api/campaigns/${c.id}/${a}`, 'viewer')).status).toBe(403);
    expect((await call('PATCH', `/api/campaigns/${c.id}`, 'admin', { name: 'By admin' })).body.name).toBe('By admin');
  });
});
