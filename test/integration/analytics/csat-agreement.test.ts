import type { Knex } from 'knex';
import { serveRoutes } from '../../helpers/api-app';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { AgentsRepo } from '../../../src/db/agents';
import { CsatAgreementRepo } from '../../../src/db/csat-agreement';
import { csatAnalyticsRoutes } from '../../../src/http/api/csat-analytics';

/** Calls seeded on days of their own (a random future month), so every number is exact. */
describe('GET /api/analytics/csat (real PostgreSQL)', () => {
  let db: Knex;
  let api: Awaited<ReturnType<typeof serveRoutes>>;
  const agentA = uniqueSid('csat-a-');
  const agentB = uniqueSid('csat-b-');
  const month = String(1 + Math.floor(Math.random() * 12)).padStart(2, '0');
  const day = (d: number) => `2041-${month}-${String(d).padStart(2, '0')}`;
  const at = (d: number, hh: number) => new Date(`${day(d)}T${String(hh).padStart(2, '0')}:00:00Z`);

  const seed = async (agentId: string, startedAt: Date, predicted: number, stated: number | null) => {
    const sid = uniqueSid('CA');
    await db('calls').insert({ call_sid: sid, agent_id: agentId, direction: 'inbound', from_number: '+1', to_number: '+2', status: 'completed', started_at: startedAt, ended_at: startedAt });
    await db('call_csat').insert({ call_sid: sid, score: predicted, method: 'test', stated_score: stated, stated_at: stated === null ? null : startedAt });
  };

  beforeAll(async () => {
    db = await setupTestDb();
    const repo = new AgentsRepo(db);
    for (const id of [agentA, agentB]) await repo.upsert({ id, name: id, systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
    // Agent A: (stated, predicted) pairs on days 2..3.
    const pairsA: Array<[number, number]> = [[5, 5], [5, 4], [4, 4], [2, 3], [1, 1], [3, 5]];
    for (const [i, [stated, predicted]] of pairsA.entries()) await seed(agentA, at(2 + (i % 2), 8 + i), predicted, stated);
    await seed(agentA, at(2, 20), 3, null); // predicted only: not in the agreement
    await seed(agentA, at(9, 8), 1, 5); // outside the range asked for
    await seed(agentB, at(3, 8), 2, 4);
    api = await serveRoutes(csatAnalyticsRoutes({ csat: new CsatAgreementRepo(db), now: () => at(4, 0) }));
  });

  afterAll(async () => {
    await api.close();
    await db('calls').whereIn('agent_id', [agentA, agentB]).delete();
    await db('agents').whereIn('id', [agentA, agentB]).delete();
    await db.destroy();
  });

  const get = async (qs: string, role: 'viewer' = 'viewer') => {
    const res = await fetch(`${api.base}/api/analytics/csat?${qs}`, { headers: api.as(role) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it("one agent: the 5×5 matrix (stated rows × predicted columns), MAE, agreement rates and means of its calls with both scores", async () => {
    const { status, body } = await get(`from=${day(1)}&to=${day(5)}&agentId=${agentA}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      from: `${day(1)}T00:00:00.000Z`,
      to: `${day(5)}T00:00:00.000Z`,
      agentId: agentA,
      n: 6,
      matrix: [
        [1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 1],
      ],
      meanAbsoluteError: 0.6667, // (0 + 1 + 0 + 1 + 0 + 2) / 6
      exactRate: 0.5,
      withinOneRate: 0.8333,
      meanStated: 3.3333,
      meanPredicted: 3.6667,
      method: 'heuristic-v2+default', // config/csat-weights.json as committed
    });
  });

  it('every agent: the other agent\'s call counts too; a range with no stated score has n 0 and null rates', async () => {
    const all = await get(`from=${day(1)}&to=${day(5)}`);
    expect(all.body).toMatchObject({ agentId: null, n: 7, meanAbsoluteError: 0.8571 }); // (4 + 2) / 7
    expect(all.body.matrix[3]).toEqual([0, 1, 0, 1, 0]);
    const none = await get(`from=${day(5)}&to=${day(8)}&agentId=${agentA}`);
    expect(none.body).toMatchObject({ n: 0, meanAbsoluteError: null, exactRate: null, withinOneRate: null, meanStated: null, meanPredicted: null });
    expect(none.body.matrix.flat().every((v: number) => v === 0)).toBe(true);
  });

  it('400 for a bad agent id, an unknown parameter or an empty range; 401 without credentials', async () => {
    expect((await get('agentId=not%20valid!')).status).toBe(400);
    expect((await get('agent=x')).status).toBe(400);
    const empty = await get(`from=${day(5)}&to=${day(1)}`);
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toMatch(/to must be later than from/);
    expect((await fetch(`${api.base}/api/analytics/csat`)).status).toBe(401);
  });
});
