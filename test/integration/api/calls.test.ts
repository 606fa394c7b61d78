import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { parseCsv } from '../../helpers/csv';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { PostCallRepo } from '../../../src/db/post-call';
import { callRoutes } from '../../../src/http/api/calls';
import { CALL_CSV_COLUMNS, callDetailSchema, callPageSchema, callSummarySchema } from '../../../src/http/call-shapes';
import { openApiDocument } from '../../../src/http/api/openapi';

/** Parses a JSON response body (typed loosely: the tests assert its shape). */
const json = (res: Response): Promise<any> => res.json();
const HOUR = 3_600_000;

interface Fixture {
  sid: string;
  agent: 'A' | 'B';
  direction: string;
  status: string;
  language: string | null;
  csat: number | null;
  turns: Array<[role: 'caller' | 'agent', text: string]>;
  from?: string;
}

describe('calls API (route table)', () => {
  let db: Knex;
  let calls: CallsRepo;
  let postCall: PostCallRepo;
  let base: string;
  let close: () => Promise<void>;
  let viewer: Record<string, string>;
  const agentA = uniqueSid('calls-a-');
  const agentB = uniqueSid('calls-b-');
  const agentBulk = uniqueSid('calls-bulk-');
  // A window of this run's own: far enough in the future that these are the newest calls of the table.
  const W = Date.UTC(2097, 0, 1) + Math.floor(Math.random() * 1e6) * 60_000;
  const at = (h: number) => new Date(W + h * HOUR).toISOString();
  const window = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(100))}`;

  const F: Record<string, Fixture> = {
    c1: { sid: uniqueSid('CA'), agent: 'A', direction: 'inbound', status: 'completed', language: 'en', csat: 5, turns: [['caller', 'I need a refund for my order'], ['agent', 'Your refund is on its way']] },
    c2: { sid: uniqueSid('CA'), agent: 'A', direction: 'outbound-api', status: 'busy', language: null, csat: null, turns: [] },
    c3: { sid: uniqueSid('CA'), agent: 'B', direction: 'outbound-dial', status: 'completed', language: 'es', csat: 2, turns: [['caller', '¿Dónde está mi paquete?'], ['agent', 'Su paquete llega MAÑANA']] },
    c4: { sid: uniqueSid('CA'), agent: 'B', direction: 'inbound', status: 'in-progress', language: 'fr', csat: null, turns: [['caller', 'Je voudrais parler à un conseiller']] },
    c5: { sid: uniqueSid('CA'), agent: 'A', direction: 'inbound', status: 'completed', language: 'de', csat: 4, turns: [['caller', 'Meine Rechnung ist falsch, refund bitte'], ['agent', 'Ich verbinde Sie']] },
    c6: {
      sid: uniqueSid('CA'),
      agent: 'A',
      direction: 'inbound',
      status: 'completed',
      language: 'en',
      csat: 1,
      from: '=HYPERLINK("http://x.test","y")',
      turns: [['caller', 'Hello, my name is "Bob",\nand =1+2 is my account'], ['agent', '@SUM(A1) noted']],
    },
  };
  const order = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'] as const;
  const sidOf = (k: keyof typeof F) => F[k].sid;
  const mine = (list: any[]): string[] => list.map((c) => c.callSid).filter((s: string) => order.some((k) => F[k].sid === s));
  const get = (path: string) => fetch(`${base}${path}`, { headers: viewer });
  const list = async (query: string): Promise<any[]> => {
    const res = await get(`/api/calls?limit=100&${query}`);
    expect(res.status).toBe(200);
    const body = await json(res);
    callPageSchema.parse(body);
    return body.calls;
  };
  /** My fixture calls among the first page for `query`, newest first, as fixture keys. */
  const keys = async (query: string): Promise<string[]> => mine(await list(query)).map((s) => order.find((k) => F[k].sid === s)!);

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    postCall = new PostCallRepo(db);
    const agents = new AgentsRepo(db);
    for (const id of [agentA, agentB, agentBulk]) {
      await agents.upsert({ id, name: `calls test ${id}`, systemPrompt: 'Be brief.', firstMessage: 'Hi!', defaultLanguage: 'en', languages: ['en'], voices: { en: 'en-us' }, intents: [], handoffNumber: null, isDefault: false });
    }
    for (const [i, k] of order.entries()) {
      const f = F[k];
      await calls.create({ callSid: f.sid, agentId: f.agent === 'A' ? agentA : agentB, direction: f.direction, from: f.from ?? '+14155550100', to: '+18005550199', status: 'ringing' });
      for (const [role, text] of f.turns) await calls.addTurn(f.sid, { role, text, language: f.language, startMs: 0, endMs: 1000 });
      if (f.status !== 'in-progress' && f.status !== 'busy') await calls.finish(f.sid, { language: f.language, intent: null });
      await db('calls')
        .where({ call_sid: f.sid })
        .update({ status: f.status, language: f.language, started_at: at(i + 1), ended_at: f.status === 'in-progress' ? null : new Date(W + (i + 1) * HOUR + 150_500) });
      if (f.csat !== null) await postCall.upsertCsat(f.sid, { score: f.csat, method: 'heuristic', details: {} });
    }
    await calls.setTransfer(sidOf('c5'), { target: '+14155550123', reason: 'billing dispute', summary: 'Caller disputes an invoice.', at: new Date(W + 5 * HOUR + 60_000).toISOString() });
    await calls.setEndReason(sidOf('c6'), '@SUM(A1)');
    const server = await serveRoutes(callRoutes({ calls, now: () => new Date('2026-12-02T10:00:00Z') }));
    ({ base, close } = server);
    viewer = server.as('viewer');
  });

  afterAll(async () => {
    await db('calls').whereIn('agent_id', [agentA, agentB, agentBulk]).delete();
    await db('agents').whereIn('id', [agentA, agentB, agentBulk]).delete();
    await close();
    await db.destroy();
  });

  it('401 without a principal (the route table answers it)', async () => {
    expect((await fetch(`${base}/api/calls`)).status).toBe(401);
    expect((await fetch(`${base}/api/calls.csv`)).status).toBe(401);
  });

  describe('GET /api/calls: each filter alone', () => {
    it('a summary carries the call, its outcome and CSAT', async () => {
      const c5 = (await list(window)).find((c) => c.callSid === sidOf('c5'));
      expect(c5).toEqual({
        callSid: sidOf('c5'),
        agentId: agentA,
        direction: 'inbound',
        from: '+14155550100',
        to: '+18005550199',
        status: 'completed',
        language: 'de',
        intent: null,
        startedAt: at(5),
        endedAt: new Date(W + 5 * HOUR + 150_500).toISOString(),
        durationMs: 150_500,
        endReason: 'transfer',
        csat: 4,
        turnCount: 2,
        transfer: { target: '+14155550123', reason: 'billing dispute', at: new Date(W + 5 * HOUR + 60_000).toISOString() },
        disposition: null,
      });
      callSummarySchema.parse(c5);
      const c4 = (await list(window)).find((c) => c.callSid === sidOf('c4'));
      expect(c4).toMatchObject({ endedAt: null, durationMs: null, csat: null, turnCount: 1, transfer: null, endReason: null });
    });

    it('campaignId selects the calls an outbound campaign placed', async () => {
      const campaign = `camp-${agentA}`.slice(0, 64);
      await db('calls').whereIn('call_sid', [sidOf('c2'), sidOf('c3')]).update({ campaign_id: campaign });
      try {
        expect(await keys(`${window}&campaignId=${campaign}`)).toEqual(['c3', 'c2']);
        expect(await keys(`${window}&campaignId=${campaign}-other`)).toEqual([]);
      } finally {
        await db('calls').whereIn('call_sid', [sidOf('c2'), sidOf('c3')]).update({ campaign_id: null });
      }
    });

    it('disposition selects analysed calls by their post-call disposition; a bad value is a 400', async () => {
      await db('calls').where({ call_sid: sidOf('c5') }).update({ disposition: 'transferred', analyzed_at: new Date() });
      await db('calls').where({ call_sid: sidOf('c1') }).update({ disposition: 'resolved', analyzed_at: new Date() });
      try {
        expect(await keys(`${window}&disposition=transferred`)).toEqual(['c5']);
        expect((await list(`${window}&disposition=transferred`))[0].disposition).toBe('transferred');
        expect(await keys(`${window}&disposition=resolved`)).toEqual(['c1']);
        expect(await keys(`${window}&disposition=voicemail`)).toEqual([]);
        expect((await fetch(`${base}/api/calls?disposition=happy`, { headers: viewer })).status).toBe(400);
      } finally {
        await db('calls').whereIn('call_sid', [sidOf('c1'), sidOf('c5')]).update({ disposition: null, analyzed_at: null });
      }
    });

    it('from/to select started_at in [from, to)', async () => {
      expect(await keys(`from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(4))}`)).toEqual(['c3', 'c2']);
      expect(await keys(window)).toEqual(['c6', 'c5', 'c4', 'c3', 'c2', 'c1']);
      // A date alone means 00:00 UTC of that day; offsets are honoured.
      const day = at(0).slice(0, 10);
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + 3 * 24 * HOUR).toISOString().slice(0, 10);
      expect((await keys(`from=${day}&to=${next}`)).sort()).toEqual([...order].sort());
      const plus2 = new Date(W + 5 * HOUR + 2 * HOUR).toISOString().replace('Z', '+02:00'); // wall clock at +02:00
      expect(Date.parse(plus2)).toBe(W + 5 * HOUR); // same instant as at(5), written with +02:00
      expect(await keys(`from=${encodeURIComponent(plus2)}&to=${encodeURIComponent(at(100))}`)).toEqual(['c6', 'c5']);
    });

    it.each([
      ['agentId', () => `agentId=${agentA}`, ['c6', 'c5', 'c2', 'c1'], (c: any) => c.agentId === agentA],
      ['direction=inbound', () => 'direction=inbound', ['c6', 'c5', 'c4', 'c1'], (c: any) => c.direction === 'inbound'],
      ['direction=outbound (both kinds)', () => 'direction=outbound', ['c3', 'c2'], (c: any) => c.direction.startsWith('outbound-')],
      ['direction=outbound-dial', () => 'direction=outbound-dial', ['c3'], (c: any) => c.direction === 'outbound-dial'],
      ['status', () => 'status=completed', ['c6', 'c5', 'c3', 'c1'], (c: any) => c.status === 'completed'],
      ['language', () => 'language=es', ['c3'], (c: any) => c.language === 'es'],
      ['language (case-insensitive)', () => 'language=ES', ['c3'], (c: any) => c.language === 'es'],
      ['csatMin', () => 'csatMin=4', ['c5', 'c1'], (c: any) => c.csat >= 4],
      ['csatMax', () => 'csatMax=2', ['c6', 'c3'], (c: any) => c.csat !== null && c.csat <= 2],
      ['csatMin and csatMax', () => 'csatMin=2&csatMax=3', ['c3'], (c: any) => c.csat >= 2 && c.csat <= 3],
    ])('%s', async (_label, query, expected, predicate) => {
      const page = await list(query());
      expect(page.every(predicate)).toBe(true);
      expect(await keys(query())).toEqual(expected);
    });
  });

  describe('GET /api/calls?q= (full-text search over the transcript)', () => {
    it.each([
      ['a word only the caller said', 'order', ['c1']],
      ['a word only the agent said', 'way', ['c1']],
      ['a word said by the caller in Spanish (accents kept)', 'dónde', ['c3']],
      ['upper case and non-ASCII letters fold to lower case', 'Mañana', ['c3']],
      ['words said in different turns (caller and agent)', 'order way', ['c1']],
      ['a word in several calls', 'refund', ['c5', 'c1']],
      ['-word excludes calls that say it anywhere', 'refund -order', ['c5']],
      ['a phrase', '"on its way"', ['c1']],
      ['a phrase in the wrong order', '"way its on"', []],
      ['or', 'paquete or conseiller', ['c4', 'c3']],
      ['no stemming: refunds does not find refund', 'refunds', []],
      ['punctuation inside the text does not matter', 'bob account', ['c6']],
    ])('%s: q=%s', async (_label, q, expected) => {
      expect(await keys(`${window}&q=${encodeURIComponent(q)}`)).toEqual(expected);
    });

    it('q alone (without other filters) finds the call', async () => {
      expect(await keys(`q=${encodeURIComponent('conseiller')}`)).toEqual(['c4']);
    });

    it('a turn stored after the first ones is searchable at once (the trigger appends it)', async () => {
      const sid = uniqueSid('CA');
      await calls.create({ callSid: sid, agentId: agentB, direction: 'inbound', from: '+1', to: '+2', status: 'in-progress' });
      await db('calls').where({ call_sid: sid }).update({ started_at: at(50) });
      const word = `zebra${Math.random().toString(36).slice(2, 8)}`;
      expect(mine(await list(`q=${word}`))).toEqual([]);
      await calls.addTurn(sid, { role: 'caller', text: 'first words', language: 'en', startMs: 0, endMs: 1 });
      await calls.addTurn(sid, { role: 'agent', text: `and then ${word} arrives`, language: 'en', startMs: 2, endMs: 3 });
      expect((await list(`q=${word}`)).map((c) => c.callSid)).toEqual([sid]);
      expect((await list(`q=${encodeURIComponent(`"first words" ${word}`)}`)).map((c) => c.callSid)).toEqual([sid]);
      await db('calls').where({ call_sid: sid }).delete();
    });
  });

  describe('combined filters', () => {
    it.each([
      ['agent + status + CSAT + text + window', () => `${window}&agentId=${agentA}&status=completed&csatMin=4&q=refund`, ['c5', 'c1']],
      ['direction + language + csatMax', () => 'direction=inbound&language=de&csatMax=4', ['c5']],
      ['agent + direction + text', () => `agentId=${agentB}&direction=outbound&q=paquete`, ['c3']],
      ['filters that exclude each other', () => `${window}&agentId=${agentB}&csatMin=5`, []],
    ])('%s', async (_label, query, expected) => {
      expect(await keys(query())).toEqual(expected);
    });
  });

  describe('keyset pages', () => {
    it('pages a filtered list with no duplicate and no gap, even with identical start times', async () => {
      const t0 = W + 150 * HOUR; // outside `window`
      const sids = Array.from({ length: 12 }, () => uniqueSid('CA'));
      for (const [i, sid] of sids.entries()) {
        await calls.create({ callSid: sid, agentId: agentB, direction: 'inbound', from: '+1', to: '+2', status: i % 3 === 0 ? 'busy' : 'completed' });
        // Groups of three share one instant; some differ only in microseconds.
        await db.raw(`UPDATE calls SET started_at = ?::timestamptz + (? * interval '1 microsecond') WHERE call_sid = ?`, [new Date(t0 + Math.floor(i / 3) * 1000).toISOString(), i % 2, sid]);
      }
      const rows = await db('calls').whereIn('call_sid', sids).where({ status: 'completed' }).select('call_sid', db.raw(`extract(epoch from started_at) * 1e6 AS us`));
      const expected = rows.sort((a, b) => Number(b.us) - Number(a.us) || (a.call_sid < b.call_sid ? 1 : -1)).map((r) => r.call_sid);
      const filter = `agentId=${agentB}&status=completed&from=${encodeURIComponent(new Date(t0).toISOString())}&to=${encodeURIComponent(new Date(t0 + HOUR).toISOString())}`;
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/api/calls?limit=3&${filter}${cursor ? `&cursor=${cursor}` : ''}`);
        const page: any = await json(res);
        expect(page.calls.length).toBeLessThanOrEqual(3);
        seen.push(...page.calls.map((c: any) => c.callSid));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(expected);
      expect(expected).toHaveLength(8);
      expect(pages).toBe(3);
    });

    it('pages newest first with limit, before and a cursor (the historical parameters)', async () => {
      const before = encodeURIComponent(at(4));
      const page1 = await json(await get(`/api/calls?limit=1&before=${before}&agentId=${agentA}`));
      expect(page1.calls.map((c: any) => c.callSid)).toEqual([sidOf('c2')]);
      expect(typeof page1.nextCursor).toBe('string');
      const page2 = await json(await get(`/api/calls?limit=1&before=${before}&agentId=${agentA}&cursor=${page1.nextCursor}`));
      expect(page2).toEqual({ calls: [expect.objectContaining({ callSid: sidOf('c1') })], nextCursor: null });
    });

    it('nextCursor is null on the last page; the limit defaults to 20', async () => {
      const res = await get(`/api/calls?before=${encodeURIComponent('1971-01-01T00:00:00Z')}`);
      expect(await json(res)).toEqual({ calls: [], nextCursor: null });
      const last = await json(await get(`/api/calls?${window}&agentId=${agentA}&limit=4`));
      expect(last.calls).toHaveLength(4);
      expect(last.nextCursor).toBeNull();
      const all = await json(await get('/api/calls'));
      expect(all.calls.length).toBeGreaterThan(0);
      expect(all.calls.length).toBeLessThanOrEqual(20);
    });
  });

  describe('400 with issues for a bad query', () => {
    it.each([
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['before=yesterday', 'query.before'],
      ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['from=yesterday', 'query.from'],
      ['from=2026-13-01', 'query.from'],
      ['to=2026-12-01T10:00:00', 'query.to'],
      ['from=2026-12-02&to=2026-12-01', 'query.to'],
      ['from=2026-12-01T00:00:00Z&to=2026-12-01', 'query.to'],
      ['csatMin=4&csatMax=2', 'query.csatMax'],
      ['csatMin=0', 'query.csatMin'],
      ['csatMax=6', 'query.csatMax'],
      ['csatMin=3.5', 'query.csatMin'],
      ['direction=sideways', 'query.direction'],
      ['status=done', 'query.status'],
      ['language=english', 'query.language'],
      ['language=pt-BR', 'query.language'],
      ['agentId=bad%20id', 'query.agentId'],
      ['q=', 'query.q'],
      ['q=%21%21%21', 'query.q'],
      [`q=${'a'.repeat(201)}`, 'query.q'],
      ['status=completed&status=busy', 'query.status'],
      ['stauts=completed', 'query'],
      ['campaignId=bad%20id', 'query.campaignId'],
    ])('?%s → 400 at %s', async (query, path) => {
      // limit and cursor are list parameters: the export has no pages, so it rejects them as unknown.
      const listOnly = /^(limit|cursor)=/.test(query);
      for (const [route, where] of [['/api/calls', path], ['/api/calls.csv', listOnly ? 'query' : path]]) {
        const res = await get(`${route}?${query}`);
        expect(res.status).toBe(400);
        const body = await json(res);
        expect(body.issues.map((i: any) => i.path)).toContain(where);
        expect(body.error).toContain(where);
      }
    });
  });

  describe('GET /api/calls/:callSid', () => {
    it('returns exactly CallsRepo.detail(), valid against the CallDetail schema', async () => {
      const res = await get(`/api/calls/${sidOf('c1')}`);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toEqual(await calls.detail(sidOf('c1')));
      callDetailSchema.parse(body);
      expect(Object.keys(body).sort()).toEqual(['analysis', 'callSid', 'crmSync', 'csat', 'direction', 'endedAt', 'events', 'from', 'intent', 'language', 'recordingUrl', 'startedAt', 'status', 'to', 'turns', 'usage']);
      expect(body).toMatchObject({ callSid: sidOf('c1'), status: 'completed', csat: { score: 5, method: 'heuristic' }, crmSync: { status: 'pending', attempts: 0 }, usage: { lines: [], costUsd: 0 }, recordingUrl: null });
      expect(body.turns).toEqual([
        { role: 'caller', text: 'I need a refund for my order', language: 'en', startMs: 0, endMs: 1000, interrupted: false, unheardText: null, timings: null },
        { role: 'agent', text: 'Your refund is on its way', language: 'en', startMs: 0, endMs: 1000, interrupted: false, unheardText: null, timings: null },
      ]);
    });

    it('404 for an unknown call, 400 (before any query) for a malformed callSid', async () => {
      const missing = await get(`/api/calls/${uniqueSid('CA')}`);
      expect(missing.status).toBe(404);
      expect((await json(missing)).error).toMatch(/not found/);
      let queries = 0;
      const count = () => queries++;
      db.on('query', count);
      try {
        for (const bad of ['bad%20sid%3B', 'x'.repeat(65), 'CA%27--']) {
          const res = await get(`/api/calls/${bad}`);
          expect(res.status).toBe(400);
          expect((await json(res)).issues[0]).toEqual({ path: 'params.callSid', message: expect.stringMatching(/callSid/) });
        }
      } finally {
        db.off('query', count);
      }
      expect(queries).toBe(0);
    });
  });

  describe('GET /api/calls.csv', () => {
    const csv = async (query: string): Promise<{ res: Response; records: string[][] }> => {
      const res = await get(`/api/calls.csv?${query}`);
      expect(res.status).toBe(200);
      return { res, records: parseCsv(await res.text()) };
    };

    it('is a download of the filtered calls: header, one record per call, newest first', async () => {
      // c5's post-call analysis (issue 13 §4): exported as disposition, summary and the extracted fields as JSON.
      await db('calls')
        .where({ call_sid: sidOf('c5') })
        .update({ disposition: 'transferred', summary: 'Disputed a bill, "twice"; sent to billing.', extracted_fields: JSON.stringify({ orderNumber: 'A-1', amount: 12.5 }), analysis_method: 'local:v1', analyzed_at: new Date(W + 6 * HOUR) });
      const { res, records } = await csv(window);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="calls-2026-12-02.csv"');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(records[0]).toEqual([...CALL_CSV_COLUMNS]);
      const rows = records.slice(1).map((r) => Object.fromEntries(CALL_CSV_COLUMNS.map((c, i) => [c, r[i]])));
      expect(rows.map((r) => r.callSid)).toEqual(['c6', 'c5', 'c4', 'c3', 'c2', 'c1'].map((k) => F[k].sid));
      expect(records.every((r) => r.length === CALL_CSV_COLUMNS.length)).toBe(true);
      expect(rows[1]).toEqual({
        callSid: sidOf('c5'),
        startedAt: at(5),
        endedAt: new Date(W + 5 * HOUR + 150_500).toISOString(),
        durationMs: '150500',
        direction: 'inbound',
        from: "'+14155550100",
        to: "'+18005550199",
        agentId: agentA,
        status: 'completed',
        language: 'de',
        intent: '',
        endReason: 'transfer',
        csat: '4',
        turnCount: '2',
        transferTarget: "'+14155550123",
        transferReason: 'billing dispute',
        transferredAt: new Date(W + 5 * HOUR + 60_000).toISOString(),
        disposition: 'transferred',
        summary: 'Disputed a bill, "twice"; sent to billing.',
        extractedFields: '{"amount":12.5,"orderNumber":"A-1"}', // jsonb's key order
      });
      expect(JSON.parse(rows[1].extractedFields)).toEqual({ orderNumber: 'A-1', amount: 12.5 });
      // Not analysed yet: empty analysis cells.
      expect(rows[2]).toMatchObject({ callSid: sidOf('c4'), endedAt: '', durationMs: '', csat: '', transferTarget: '', disposition: '', summary: '', extractedFields: '' });
    });

    it('applies the same filters as the list', async () => {
      const { records } = await csv(`${window}&q=refund&csatMin=4`);
      expect(records.slice(1).map((r) => r[0])).toEqual([sidOf('c5'), sidOf('c1')]);
      const none = await csv(`${window}&agentId=${agentB}&csatMin=5`);
      expect(none.records).toEqual([[...CALL_CSV_COLUMNS]]);
    });

    it('quotes commas, quotes and line breaks, and defuses formulas (OWASP CSV injection)', async () => {
      const res = await get(`/api/calls.csv?${window}&transcript=true&agentId=${agentA}&csatMax=1`);
      const text = await res.text();
      const records = parseCsv(text);
      expect(records[0]).toEqual([...CALL_CSV_COLUMNS, 'transcript']);
      expect(records).toHaveLength(2);
      const row = Object.fromEntries(records[0].map((c, i) => [c, records[1][i]]));
      expect(row.from).toBe(`'=HYPERLINK("http://x.test","y")`);
      expect(row.endReason).toBe("'@SUM(A1)");
      expect(row.transcript).toBe('caller: Hello, my name is "Bob",\nand =1+2 is my account\nagent: @SUM(A1) noted');
      // Raw text: the quoted cells, records ended by CRLF.
      expect(text).toContain(`"'=HYPERLINK(""http://x.test"",""y"")"`);
      expect(text.endsWith('\r\n')).toBe(true);
      // No cell of the whole export starts with a formula character.
      const all = parseCsv(await (await get(`/api/calls.csv?${window}&transcript=true`)).text());
      expect(all.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell))).toEqual([]);
    });

    it('is not taken for a callSid by /api/calls/:callSid', async () => {
      const res = await get('/api/calls.csv?limit=5');
      expect(res.status).toBe(400);
      expect((await json(res)).issues[0].path).toBe('query');
    });

    describe('5,000 calls', () => {
      const N = 5_000;
      const bulkSids: string[] = [];
      const t0 = W + 200 * HOUR;
      const bulkWindow = `agentId=${agentBulk}&from=${encodeURIComponent(new Date(t0).toISOString())}`;

      beforeAll(async () => {
        const rows = Array.from({ length: N }, (_, i) => {
          const sid = `CAbulk${i.toString().padStart(5, '0')}${uniqueSid('')}`.slice(0, 34);
          bulkSids.push(sid);
          // Every tenth call shares its start time with the previous one.
          return { call_sid: sid, agent_id: agentBulk, direction: 'inbound', from_number: '+14155550100', to_number: '+18005550199', status: 'completed', started_at: new Date(t0 + (i - (i % 10 === 9 ? 1 : 0)) * 1000) };
        });
        for (let i = 0; i < rows.length; i += 1000) await db('calls').insert(rows.slice(i, i + 1000));
      });

      it('streams in keyset batches (chunked, one batch in memory) and exports every call once', async () => {
        const batches: Array<{ bindings: unknown[] }> = [];
        const onQuery = (q: { sql: string; bindings: unknown[] }) => {
          if (/from "calls" left join "call_csat"/.test(q.sql)) batches.push({ bindings: q.bindings });
        };
        db.on('query', onQuery);
        let chunks = 0;
        let text = '';
        try {
          const res = await get(`/api/calls.csv?${bulkWindow}`);
          expect(res.status).toBe(200);
          expect(res.headers.get('transfer-encoding')).toBe('chunked');
          expect(res.headers.get('content-length')).toBeNull();
          const decoder = new TextDecoder();
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            chunks++;
            text += decoder.decode(chunk, { stream: true });
          }
        } finally {
          db.off('query', onQuery);
        }
        const records = parseCsv(text);
        expect(records).toHaveLength(N + 1);
        const sids = records.slice(1).map((r) => r[0]);
        expect(new Set(sids).size).toBe(N);
        expect([...sids].sort()).toEqual([...bulkSids].sort());
        // Newest first.
        const started = records.slice(1).map((r) => Date.parse(r[1]));
        expect(started.every((t, i) => i === 0 || t <= started[i - 1])).toBe(true);
        // 5,000 rows in batches of 500: 11 queries (the last one finds nothing), each limited to 500 rows.
        expect(batches).toHaveLength(11);
        expect(batches.every((b) => b.bindings[b.bindings.length - 1] === 500)).toBe(true);
        expect(chunks).toBeGreaterThan(1);
      });

      it('CallsRepo.stream reads the next batch only when the consumer reaches it', async () => {
        let queries = 0;
        const onQuery = (q: { sql: string }) => {
          if (/from "calls" left join "call_csat"/.test(q.sql)) queries++;
        };
        db.on('query', onQuery);
        try {
          const it = calls.stream({ agentId: agentBulk }, { batchSize: 500 })[Symbol.asyncIterator]();
          await it.next();
          expect(queries).toBe(1);
          for (let i = 1; i < 500; i++) await it.next();
          expect(queries).toBe(1);
          await it.next();
          expect(queries).toBe(2);
          await it.return(undefined);
        } finally {
          db.off('query', onQuery);
        }
      });
    });
  });

  it('the OpenAPI document has every calls route and its examples validate', () => {
    const routes = callRoutes({ calls });
    const doc = openApiDocument(routes, { title: 't', version: '1' }) as any;
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/calls', '/api/calls.csv', '/api/calls/{callSid}']);
    expect(doc.paths['/api/calls.csv'].get.responses['200'].content).toHaveProperty(['text/csv']);
    expect(doc.components.schemas).toHaveProperty('CallSummary');
    expect(doc.components.schemas).toHaveProperty('CallDetail');
    for (const r of routes) {
      const ok = Object.entries(r.responses).find(([s]) => Number(s) < 300)![1];
      if (r.examples?.response !== undefined) ok.schema!.parse(r.examples.response);
    }
    callSummarySchema.parse(callSummarySchema.meta()!.example);
    callDetailSchema.parse(callDetailSchema.meta()!.example);
  });
});
