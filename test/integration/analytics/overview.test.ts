import type { Knex } from 'knex';
import { serveRoutes } from '../../helpers/api-app';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { AgentsRepo } from '../../../src/db/agents';
import { OverviewRepo, type Overview } from '../../../src/db/overview';
import { UsageRepo } from '../../../src/db/usage';
import { analyticsRoutes } from '../../../src/http/api/analytics';

/** A seeded set on two days of their own (far in the future, random), so the numbers are exact. */
describe('GET /api/analytics/overview (real PostgreSQL)', () => {
  let db: Knex;
  let api: Awaited<ReturnType<typeof serveRoutes>>;
  const agentId = uniqueSid('overview-');
  const month = 1 + Math.floor(Math.random() * 12);
  const dayNo = 1 + Math.floor(Math.random() * 26);
  const d1 = `2033-${String(month).padStart(2, '0')}-${String(dayNo).padStart(2, '0')}`;
  const d2 = `2033-${String(month).padStart(2, '0')}-${String(dayNo + 1).padStart(2, '0')}`;
  const at = (day: string, hh: number) => new Date(`${day}T${String(hh).padStart(2, '0')}:00:00Z`);
  const now = at(d1, 12);

  interface Seed {
    day: string;
    answered: boolean;
    ended: boolean;
    transfer?: boolean;
    language?: string;
    intent?: string;
    csat?: number;
    costTokens?: number;
    replies?: Array<Record<string, number>>;
  }

  const seed = async (s: Seed, hour: number): Promise<string> => {
    const sid = uniqueSid('CA');
    await db('calls').insert({
      call_sid: sid, agent_id: agentId, direction: 'inbound', from_number: '+1', to_number: '+2', status: s.ended ? 'completed' : 'in-progress',
      stream_sid: s.answered ? `MZ${sid}` : null, language: s.language ?? null, intent: s.intent ?? null, started_at: at(s.day, hour),
      ended_at: s.ended ? at(s.day, hour + 1) : null, transfer: s.transfer ? JSON.stringify({ target: '+15005550006', reason: 'asked', summary: '', at: at(s.day, hour).toISOString() }) : null,
    });
    if (s.csat) await db('call_csat').insert({ call_sid: sid, score: s.csat, method: 'test' });
    if (s.costTokens) {
      await new UsageRepo(db, { 'overview.llm': { llm_prompt: 1 } }).record(sid, [{ provider: 'overview.llm', kind: 'llm_prompt', quantity: s.costTokens }]);
      await db('call_usage').where({ call_sid: sid }).update({ recorded_at: at(s.day, hour + 1) }); // written when the call ended
    }
    for (const [i, timings] of (s.replies ?? []).entries()) {
      await db('call_turns').insert({ call_sid: sid, seq: i * 2 + 1, role: 'caller', text: 'q', start_ms: 0, end_ms: 1, timings: JSON.stringify({ sttMs: 9999 }), created_at: at(s.day, hour) });
      await db('call_turns').insert({ call_sid: sid, seq: i * 2 + 2, role: 'agent', text: 'a', start_ms: 1, end_ms: 2, timings: JSON.stringify(timings), created_at: at(s.day, hour) });
    }
    return sid;
  };

  beforeAll(async () => {
    db = await setupTestDb();
    await new AgentsRepo(db).upsert({ id: agentId, name: 'overview test', systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
    const full = (reply: number) => ({ endpointingMs: 100, sttMs: 200, llmFirstTokenMs: 300, ttsFirstByteMs: 400, replyLatencyMs: reply });
    await seed({ day: d1, answered: true, ended: true, language: 'en', intent: 'hours', csat: 5, costTokens: 500_000, replies: [full(1000), full(2000)] }, 8);
    await seed({ day: d1, answered: true, ended: true, transfer: true, language: 'es', intent: 'refund', csat: 3 }, 9);
    await seed({ day: d1, answered: false, ended: true }, 10); // abandoned
    await seed({ day: d1, answered: true, ended: false }, 11); // live at `now`
    await seed({ day: d2, answered: true, ended: true, language: 'en', intent: 'hours', csat: 4, costTokens: 250_000, replies: [{ replyLatencyMs: 800 }] }, 8);
    await seed({ day: d2, answered: true, ended: true, language: 'en', intent: 'billing' }, 9);
    api = await serveRoutes(analyticsRoutes({ overview: new OverviewRepo(db), now: () => now }));
  });

  afterAll(async () => {
    await api.close();
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
  });

  it('answers exact numbers on the seeded calls', async () => {
    const res = await fetch(`${api.base}/api/analytics/overview?from=${d1}&to=2033-12-31`, { headers: api.as('viewer') });
    expect(res.status).toBe(200);
    const o = (await res.json()) as Overview;
    expect(o.totals).toEqual({ calls: 6, answered: 5, abandoned: 1, transfers: 1, contained: 3, containmentRate: 0.75, costUsd: 0.75 });
    expect(o.days).toEqual([
      { day: d1, calls: 4, answered: 3, abandoned: 1, transfers: 1, contained: 1, costUsd: 0.5 },
      { day: d2, calls: 2, answered: 2, abandoned: 0, transfers: 0, contained: 2, costUsd: 0.25 },
    ]);
    expect(o.csat).toEqual({ average: 4, count: 3, distribution: { '1': 0, '2': 0, '3': 1, '4': 1, '5': 1 } });
    expect(o.latency).toEqual([
      {
        day: d1,
        turns: 2,
        stages: {
          endpointingMs: { p50: 100, p95: 100 },
          sttMs: { p50: 200, p95: 200 },
          llmFirstTokenMs: { p50: 300, p95: 300 },
          ttsFirstByteMs: { p50: 400, p95: 400 },
          replyLatencyMs: { p50: 1500, p95: 1950 },
        },
      },
      {
        day: d2,
        turns: 1,
        stages: {
          endpointingMs: { p50: null, p95: null },
          sttMs: { p50: null, p95: null },
          llmFirstTokenMs: { p50: null, p95: null },
          ttsFirstByteMs: { p50: null, p95: null },
          replyLatencyMs: { p50: 800, p95: 800 },
        },
      },
    ]);
    expect(o.languages).toEqual([{ language: 'en', calls: 3 }, { language: null, calls: 2 }, { language: 'es', calls: 1 }]);
    expect(o.topIntents).toEqual([{ intent: 'hours', calls: 2 }, { intent: 'billing', calls: 1 }, { intent: 'refund', calls: 1 }]);
    expect(o.liveNow).toBe(1);
  });

  it('a range with no calls is all zeros; a bad range is a 400', async () => {
    const empty = (await (await fetch(`${api.base}/api/analytics/overview?from=2033-12-31&to=2034-01-01`, { headers: api.as('viewer') })).json()) as Overview;
    expect(empty.totals).toEqual({ calls: 0, answered: 0, abandoned: 0, transfers: 0, contained: 0, containmentRate: null, costUsd: 0 });
    expect(empty.csat).toEqual({ average: null, count: 0, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } });
    expect((await fetch(`${api.base}/api/analytics/overview?from=2034-01-01&to=2033-01-01`, { headers: api.as('viewer') })).status).toBe(400);
    expect((await fetch(`${api.base}/api/analytics/overview?days=3`, { headers: api.as('viewer') })).status).toBe(400);
    expect((await fetch(`${api.base}/api/analytics/overview`)).status).toBe(401);
  });
});
