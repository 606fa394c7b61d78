import type { Job } from 'bullmq';
import type { Knex } from 'knex';
import pino from 'pino';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { PostCallRepo } from '../../../src/db/post-call';
import { CSAT_METHOD, DEFAULT_CSAT_WEIGHTS, csatMethod, scoreCsat } from '../../../src/analytics/csat';
import { createPostCallQueue, createRedisConnection, type PostCallPayload, type PostCallQueue } from '../../../src/jobs/queues';
import { createCsatProcessor } from '../../../workers/processors/csat';
import { setupTestDb, uniqueSid } from '../../helpers/db';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-csat-stated-${process.pid}-${Date.now().toString(36)}`;
const TURNS = [
  { role: 'agent' as const, text: 'Hello, how can I help?', language: 'en', startMs: 0, endMs: 2_000 },
  { role: 'caller' as const, text: 'What time do you open? Thanks, goodbye!', language: 'en', startMs: 3_000, endMs: 6_000 },
  { role: 'agent' as const, text: 'We open at nine.', language: 'en', startMs: 7_000, endMs: 20_000 },
];

/** The csat post-call step keeps the predicted score and copies the caller's stated one from the call's event. */
describe('csat processor: stated score beside the predicted one (real PostgreSQL + Redis)', () => {
  let db: Knex;
  let calls: CallsRepo;
  let postCall: PostCallRepo;
  let redis: ReturnType<typeof createRedisConnection>;
  let queue: PostCallQueue;
  const agentId = uniqueSid('csat-stated-');

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    postCall = new PostCallRepo(db);
    redis = createRedisConnection(REDIS_URL, 'producer');
    queue = createPostCallQueue(redis, { prefix: PREFIX });
    await new AgentsRepo(db).upsert({ id: agentId, name: 'csat', systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
  });

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
  });

  const newCall = async (events: Array<[string, Record<string, unknown>]>) => {
    const callSid = uniqueSid('CA');
    await calls.create({ callSid, agentId, direction: 'inbound', from: '+14155550100', to: '+14155550199', status: 'in-progress' });
    for (const t of TURNS) await calls.addTurn(callSid, t);
    for (const [type, payload] of events) await calls.addEvent(callSid, type, payload);
    await calls.finish(callSid, { language: 'en', intent: null });
    return callSid;
  };
  const run = (processor: ReturnType<typeof createCsatProcessor>, callSid: string) => processor({ data: { callSid } } as Job<PostCallPayload>);

  it('copies the last valid csat.stated score and its time; the predicted score and method are the heuristic\'s', async () => {
    const processor = createCsatProcessor({ calls, postCall, queue, logger: pino({ level: 'silent' }), crmJobOptions: { attempts: 1 } });
    const callSid = await newCall([['dtmf', { digit: 'X' }], ['csat.stated', { score: 2, via: 'dtmf', atMs: 21_000 }], ['csat.stated', { score: 9, via: 'dtmf' }]]);
    await run(processor, callSid);
    const row = await postCall.getCsat(callSid);
    const events = await calls.events(callSid);
    const expected = scoreCsat({ turns: await calls.turns(callSid), durationMs: row!.details.durationMs as number, eventTypes: events.map((e) => e.type) });
    expect(row).toMatchObject({ score: expected.score, method: CSAT_METHOD, statedScore: 2 });
    expect(row!.statedAt?.toISOString()).toBe(new Date(events.find((e) => e.type === 'csat.stated')!.at).toISOString());
    await run(processor, callSid); // a retried job changes nothing
    expect(await postCall.getCsat(callSid)).toMatchObject({ score: expected.score, statedScore: 2 });
  });

  it('no survey answer: stated_score stays null; given weights score the call and name their version', async () => {
    const weights = { ...DEFAULT_CSAT_WEIGHTS, version: 'fit:2041-01-01.abcdef12', intercept: 5, weights: { ...DEFAULT_CSAT_WEIGHTS.weights, closingCourtesy: 0 } };
    const processor = createCsatProcessor({ calls, postCall, queue, logger: pino({ level: 'silent' }), crmJobOptions: { attempts: 1 }, weights });
    const callSid = await newCall([['csat.unanswered', { reason: 'timeout' }]]);
    await run(processor, callSid);
    const row = await postCall.getCsat(callSid);
    expect(row).toMatchObject({ statedScore: null, statedAt: null, method: csatMethod(weights) });
    expect(row!.method).toBe('heuristic-v2+fit:2041-01-01.abcdef12');
    expect(row!.details.components).toMatchObject({ base: 5, closingCourtesy: 0 });
  });
});
