import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { startTestApi, TEST_API_KEY as API_KEY, type TestApi } from '../../helpers/auth-api';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { managementRoutes } from '../../../src/http/api';

/** Parses a JSON response body (typed loosely: the tests assert its shape). */
const json = (res: Response): Promise<any> => res.json();

describe('REST API', () => {
  let db: Knex;
  let api: TestApi;
  let base: string;
  let calls: CallsRepo;
  let agents: AgentsRepo;
  const agentId = uniqueSid('api-');

  const get = (path: string, key: string | null = API_KEY) => fetch(`${base}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    agents = new AgentsRepo(db);
    await agents.upsert({
      id: agentId,
      name: 'API test agent',
      systemPrompt: 'Be brief.',
      firstMessage: 'Hi!',
      defaultLanguage: 'en',
      languages: ['en'],
      voices: { en: 'en-us' },
      intents: ['hours'],
      handoffNumber: null,
      isDefault: false,
    });
    api = await startTestApi({ db, routes: managementRoutes({ db, calls }) });
    base = api.base;
  });

  afterAll(async () => {
    // Far-future calls from the paging test would sit on top of every other test's call list: remove them.
    await db('calls').where({ agent_id: agentId }).where('started_at', '>', new Date(Date.UTC(2090, 0, 1))).delete();
    await api.close();
    await db.destroy();
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null, 'Bearer realm="api"'],
      ['a wrong key', 'wrong-key', 'Bearer realm="api", error="invalid_token"'],
      ['a key that is a prefix of the real one', API_KEY.slice(0, -1), 'Bearer realm="api", error="invalid_token"'],
    ])('401 JSON with WWW-Authenticate for %s', async (_label, key, challenge) => {
      const res = await get('/api/calls', key);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = await json(res);
      expect(typeof body.error).toBe('string');
      expect(JSON.stringify(body)).not.toContain(API_KEY);
    });

    it('401 for a non-Bearer scheme, on every route', async () => {
      for (const path of ['/api/calls', '/api/calls/CA123', '/api/agents']) {
        const res = await fetch(`${base}${path}`, { headers: { authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}` } });
        expect(res.status).toBe(401);
      }
    });

    it('accepts the right key (scheme is case-insensitive)', async () => {
      const res = await fetch(`${base}/api/agents`, { headers: { authorization: `bearer ${API_KEY}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('GET /api/calls/:callSid', () => {
    it('returns exactly CallsRepo.detail() for a call with turns', async () => {
      const callSid = uniqueSid('CA');
      await calls.create({ callSid, accountSid: 'AC00000000000000000000000000000000', agentId, direction: 'inbound', from: '+15005550001', to: '+15005550002', status: 'ringing' });
      await calls.attachStream(callSid, uniqueSid('MZ'));
      await calls.addTurn(callSid, { role: 'agent', text: 'Hello, how can I help?', language: 'en', startMs: 0, endMs: 1800 });
      await calls.addTurn(callSid, { role: 'caller', text: 'when are you open', language: 'en', startMs: 2500, endMs: 3900, intent: 'hours', sttConfidence: 0.8 });
      const timings = { endpointingMs: 200, sttMs: 150, llmFirstTokenMs: 300, ttsFirstByteMs: 120, replyLatencyMs: 480 };
      const unheardText = 'to Friday, nine to five. Anything else?';
      await calls.addTurn(callSid, { role: 'agent', text: 'We are open Monday', language: 'en', startMs: 4300, endMs: 5200, intent: 'hours', interrupted: true, unheardText, timings });
      await calls.addEvent(callSid, 'barge_in', { atMs: 5150 });
      await calls.finish(callSid, { language: 'en', intent: 'hours' });

      const res = await get(`/api/calls/${callSid}`);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toEqual(await calls.detail(callSid));
      expect(Object.keys(body).sort()).toEqual(['analysis', 'callSid', 'crmSync', 'csat', 'direction', 'endedAt', 'events', 'from', 'intent', 'language', 'recordingUrl', 'startedAt', 'status', 'to', 'turns', 'usage']);
      expect(body).toMatchObject({ callSid, direction: 'inbound', from: '+15005550001', to: '+15005550002', status: 'completed', language: 'en', intent: 'hours', csat: null, crmSync: { status: 'pending', attempts: 0 }, recordingUrl: null });
      expect(body.turns).toEqual([
        { role: 'agent', text: 'Hello, how can I help?', language: 'en', startMs: 0, endMs: 1800, interrupted: false, unheardText: null, timings: null },
        { role: 'caller', text: 'when are you open', language: 'en', startMs: 2500, endMs: 3900, interrupted: false, unheardText: null, timings: null },
        // The cut reply: what the caller heard, flagged, the rest it did not hear, with the reply's stage timings.
        { role: 'agent', text: 'We are open Monday', language: 'en', startMs: 4300, endMs: 5200, interrupted: true, unheardText, timings },
      ]);
      // The repository reads back what it stored (only the cut agent turn has unheard text).
      expect((await calls.turns(callSid)).map((t) => t.unheardText ?? null)).toEqual([null, null, unheardText]);
      expect(body.events).toEqual([{ type: 'barge_in', at: expect.any(String), payload: { atMs: 5150 } }]);
      expect(new Date(body.endedAt).getTime()).toBeGreaterThanOrEqual(new Date(body.startedAt).getTime());
    });

    it('404 JSON for an unknown call, 400 for a malformed callSid', async () => {
      const missing = await get(`/api/calls/${uniqueSid('CA')}`);
      expect(missing.status).toBe(404);
      expect((await json(missing)).error).toMatch(/not found/);
      const bad = await get('/api/calls/bad%20sid%3B');
      expect(bad.status).toBe(400);
      expect((await json(bad)).error).toMatch(/callSid/);
    });
  });

  describe('GET /api/calls', () => {
    it('pages newest first with limit, a before filter and a keyset cursor', async () => {
      // Far-future start times make these the newest calls in the table whatever else it holds.
      const t0 = Date.UTC(2099, 0, 1) + Math.floor(Math.random() * 1e9) * 1000;
      const sids = [uniqueSid('CA'), uniqueSid('CA'), uniqueSid('CA')];
      for (const [i, callSid] of sids.entries()) {
        await calls.create({ callSid, agentId, direction: 'outbound-api', from: '+15005550002', to: '+15005550003', status: 'queued' });
        await db('calls').where({ call_sid: callSid }).update({ started_at: new Date(t0 + (i + 1) * 1000) });
      }
      const before = new Date(t0 + 10_000).toISOString();
      const page1 = await json(await get(`/api/calls?limit=2&before=${encodeURIComponent(before)}`));
      expect(page1.calls.map((c: any) => c.callSid)).toEqual([sids[2], sids[1]]);
      expect(page1.calls[0]).toEqual({
        callSid: sids[2],
        agentId,
        direction: 'outbound-api',
        from: '+15005550002',
        to: '+15005550003',
        status: 'queued',
        language: null,
        intent: null,
        startedAt: new Date(t0 + 3000).toISOString(),
        endedAt: null,
        durationMs: null,
        endReason: null,
        csat: null,
        turnCount: 0,
        transfer: null,
        disposition: null,
      });
      expect(typeof page1.nextCursor).toBe('string');
      const page2 = await json(await get(`/api/calls?limit=2&before=${encodeURIComponent(before)}&cursor=${page1.nextCursor}`));
      expect(page2.calls[0].callSid).toBe(sids[0]);
    });

    it('never skips calls that start in the same millisecond as a page boundary', async () => {
      const t = new Date(Date.UTC(2098, 0, 1) + Math.floor(Math.random() * 1e9) * 1000);
      const sids = Array.from({ length: 5 }, () => uniqueSid('CA'));
      for (const [i, callSid] of sids.entries()) {
        await calls.create({ callSid, agentId, direction: 'inbound', from: '+15005550002', to: '+15005550003', status: 'completed' });
        // Same millisecond, different microseconds for some, identical instants for others.
        await db.raw(`UPDATE calls SET started_at = ?::timestamptz + (? * interval '1 microsecond') WHERE call_sid = ?`, [t.toISOString(), i % 2, callSid]);
      }
      const before = new Date(t.getTime() + 1).toISOString();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await json(await get(`/api/calls?limit=2&before=${encodeURIComponent(before)}${cursor ? `&cursor=${cursor}` : ''}`));
        seen.push(...page.calls.map((c: any) => c.callSid).filter((s: string) => sids.includes(s)));
        cursor = page.nextCursor;
        if (page.calls.every((c: any) => !sids.includes(c.callSid))) break;
      } while (cursor);
      expect([...seen].sort()).toEqual([...sids].sort());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('returns nextCursor null on the last page and defaults the limit', async () => {
      const res = await get(`/api/calls?before=${encodeURIComponent('1971-01-01T00:00:00Z')}`);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ calls: [], nextCursor: null });
      const all = await json(await get('/api/calls'));
      expect(all.calls.length).toBeGreaterThan(0);
      expect(all.calls.length).toBeLessThanOrEqual(20);
    });

    it.each([
      ['limit=0', /limit/],
      ['limit=101', /limit/],
      ['limit=abc', /limit/],
      ['before=yesterday', /before/],
      ['cursor=bm90LWEtY3Vyc29y', /cursor/],
    ])('400 with a message for ?%s', async (query, message) => {
      const res = await get(`/api/calls?${query}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatch(message);
    });
  });

  it('GET /api/agents lists agents with their configuration', async () => {
    const res = await get('/api/agents');
    expect(res.status).toBe(200);
    const body = await json(res);
    const mine = body.agents.find((a: any) => a.id === agentId);
    expect(mine).toEqual(await agents.get(agentId));
    expect(mine).toMatchObject({ name: 'API test agent', languages: ['en'], voices: { en: 'en-us' }, intents: ['hours'], handoffNumber: null, isDefault: false });
  });
});
