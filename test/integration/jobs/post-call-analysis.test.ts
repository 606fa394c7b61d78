import type { Knex } from 'knex';
import pino from 'pino';
import { LOCAL_ANALYSIS_METHOD } from '../../../src/analytics/call-analysis';
import { CallsRepo } from '../../../src/db/calls';
import type { TurnInput } from '../../../src/domain/calls';
import type { ExtractionSchema } from '../../../src/domain/extraction-schema';
import { WEBHOOK_EVENT_SCHEMAS } from '../../../src/domain/webhook-events';
import { enqueuePostCall } from '../../../src/jobs/post-call';
import { createRedisConnection, postCallJobId } from '../../../src/jobs/queues';
import { OpenAiCallAnalyzer } from '../../../src/providers/llm/openai-analysis';
import { startWorkers, type RunningWorkers } from '../../../workers';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { waitFor } from '../../helpers/async';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const AGENT_ID = 'test-postcall-analysis-agent';
const SCHEMA: ExtractionSchema = {
  type: 'object',
  properties: {
    orderNumber: { type: 'string', description: "The caller's order number" },
    appointmentTime: { type: 'string', format: 'date-time', description: 'When the caller wants the appointment' },
  },
};

const TURNS: TurnInput[] = [
  { role: 'agent', text: 'Hi, this is Acme support. How can I help?', language: 'en', startMs: 0, endMs: 2_000 },
  { role: 'caller', text: 'My order number is A-48213 and I want to book an appointment for tomorrow at 3 pm.', language: 'en', startMs: 2_500, endMs: 6_000 },
  { role: 'agent', text: 'Done: your appointment for order A-48213 is booked for tomorrow at three.', language: 'en', startMs: 6_500, endMs: 9_000 },
  { role: 'caller', text: 'Perfect, thank you!', language: 'en', startMs: 9_500, endMs: 10_500 },
];

let db: Knex;
let calls: CallsRepo;
let openai: OpenAiDouble;
let redis: ReturnType<typeof createRedisConnection>;
const running: RunningWorkers[] = [];

function start(prefix: string, analysis?: Parameters<typeof startWorkers>[0]['analysis']): RunningWorkers {
  const w = startWorkers({ db, connection: redis, prefix, logger, crm: { maxAttempts: 1, retryBaseMs: 10 }, analysis });
  running.push(w);
  return w;
}

async function insertCall(o: { status?: string; turns?: TurnInput[] } = {}): Promise<string> {
  const callSid = uniqueSid('CA');
  await calls.create({ callSid, agentId: AGENT_ID, direction: 'inbound', from: '+14155550100', to: '+14155550199', status: 'in-progress' });
  for (const t of o.turns ?? TURNS) await calls.addTurn(callSid, t);
  await calls.finish(callSid, { language: null, intent: null });
  if (o.status) await calls.applyStatus(callSid, o.status, 3, { CallStatus: o.status });
  return callSid;
}

/** Waits for the chain's last step (crm-sync wrote call.completed) and returns the detail. */
async function completed(callSid: string) {
  await waitFor(`call.completed of ${callSid}`, async () => (await db('webhook_outbox').where({ dedupe_key: `call.completed:${callSid}` }).first()) ?? null);
  return (await calls.detail(callSid))!;
}

beforeAll(async () => {
  db = await setupTestDb();
  calls = new CallsRepo(db);
  await db('agents')
    .insert({ id: AGENT_ID, name: 'Analysis test agent', system_prompt: 'test', first_message: 'Hello', extraction_schema: JSON.stringify(SCHEMA) })
    .onConflict('id')
    .merge(['extraction_schema']);
  openai = await startOpenAiDouble();
  redis = createRedisConnection(REDIS_URL, 'worker');
});

afterAll(async () => {
  for (const w of running) {
    await w.worker.close();
    await w.queue.obliterate({ force: true });
    await w.close();
  }
  redis?.disconnect();
  await openai?.close();
  await db?.destroy();
});

describe('post-call analysis step, offline (local analyzer)', () => {
  let w: RunningWorkers;
  beforeAll(() => {
    w = start(`test-analysis-local-${process.pid}-${Date.now().toString(36)}`);
  });

  it('runs between finalize-transcript and csat and stores summary, disposition and fields; call.completed carries them', async () => {
    const callSid = await insertCall();
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    expect(d.analysis).toMatchObject({
      disposition: 'resolved',
      method: LOCAL_ANALYSIS_METHOD,
      fields: { orderNumber: 'A-48213', appointmentTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) },
    });
    expect(d.analysis!.summary).toContain('A-48213');
    expect(new Date(d.analysis!.analyzedAt).getTime()).toBeGreaterThan(0);
    // the chain order: finalize-transcript enqueued analysis, which enqueued csat once it had stored its result
    const [fin, analysis, csat] = await Promise.all(['finalize-transcript', 'analysis', 'csat'].map((k) => w.queue.getJob(postCallJobId(callSid, k as 'csat'))));
    expect(fin!.processedOn!).toBeLessThanOrEqual(analysis!.timestamp);
    expect(analysis!.processedOn!).toBeLessThanOrEqual(csat!.timestamp);
    const ev = (await db('webhook_outbox').where({ dedupe_key: `call.completed:${callSid}` }).first()).payload;
    expect(ev.data).toMatchObject({ summary: d.analysis!.summary, disposition: 'resolved', extractedFields: d.analysis!.fields });
    expect(WEBHOOK_EVENT_SCHEMAS['call.completed'].safeParse(ev.data).success).toBe(true);
    const done = (await calls.events(callSid)).filter((e) => e.type === 'analysis.completed');
    expect(done).toHaveLength(1);
    expect(JSON.stringify(done[0].payload)).not.toContain('A-48213'); // no caller data in events
  });

  it('a no-answer call is no_answer from its Twilio status; re-running the step is idempotent', async () => {
    const callSid = await insertCall({ status: 'no-answer', turns: [] });
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    expect(d.analysis).toMatchObject({ disposition: 'no_answer', summary: 'Nobody answered.', fields: {} });
    const job = await w.queue.getJob(postCallJobId(callSid, 'analysis'));
    await job!.retry('completed').catch(() => undefined); // BullMQ re-runs a completed job
    await waitFor('second run', async () => (await job!.getState()) === 'completed' && ((await w.queue.getJob(postCallJobId(callSid, 'analysis')))!.attemptsMade >= 1));
    expect((await calls.detail(callSid))!.analysis).toMatchObject({ disposition: 'no_answer' });
    expect((await calls.events(callSid)).filter((e) => e.type === 'analysis.completed')).toHaveLength(1);
  });
});

describe('post-call analysis step with the OpenAI double (real openai SDK, structured output)', () => {
  let w: RunningWorkers;
  beforeAll(() => {
    const llm = new OpenAiCallAnalyzer({ apiKey: openai.apiKey, baseURL: openai.baseURL, timeoutMs: 2_000, model: 'gpt-4o-mini' });
    w = start(`test-analysis-llm-${process.pid}-${Date.now().toString(36)}`, { llm, llmTimeoutMs: 1_500 });
  });
  beforeEach(() => openai.reset());

  it("sends response_format json_schema (strict) with the agent's fields and stores the LLM's validated answer", async () => {
    openai.script('chat', { kind: 'chat', json: { summary: 'The caller booked an appointment for order A-48213.', outcome: 'resolved', fields: { orderNumber: 'A-48213', appointmentTime: 'soon' } } });
    const callSid = await insertCall();
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    const [req] = openai.requestsTo('chat');
    expect(req.body.stream).not.toBe(true);
    expect(req.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'call_analysis', strict: true } });
    const fields = req.body.response_format.json_schema.schema.properties.fields;
    expect(fields).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['orderNumber', 'appointmentTime'],
      properties: {
        orderNumber: { type: ['string', 'null'], description: "The caller's order number" },
        appointmentTime: { type: ['string', 'null'], description: expect.stringContaining('ISO 8601 date-time') },
      },
    });
    expect(req.body.messages[1].content).toContain('Caller: My order number is A-48213');
    // 'soon' is not a date-time: dropped by the schema check
    expect(d.analysis).toEqual({ summary: 'The caller booked an appointment for order A-48213.', disposition: 'resolved', fields: { orderNumber: 'A-48213' }, method: 'llm:gpt-4o-mini', analyzedAt: expect.any(String) });
  });

  it('the transfer fact wins over the LLM outcome', async () => {
    openai.script('chat', { kind: 'chat', json: { summary: 'Caller wanted a person.', outcome: 'unresolved', fields: { orderNumber: null, appointmentTime: null } } });
    const callSid = await insertCall();
    await calls.setTransfer(callSid, { target: '+14155550111', reason: 'caller_request', summary: 'Transferred call.', at: new Date().toISOString() });
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    expect(d.analysis).toMatchObject({ disposition: 'transferred', method: 'llm:gpt-4o-mini', fields: {} });
  });

  it('falls back to the local analyzer when the double answers 500', async () => {
    openai.script('chat', { kind: 'error', status: 500 });
    const callSid = await insertCall();
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    expect(openai.requestsTo('chat')[0].status).toBe(500);
    expect(d.analysis).toMatchObject({ method: LOCAL_ANALYSIS_METHOD, disposition: 'resolved', fields: { orderNumber: 'A-48213' } });
    expect((await calls.events(callSid)).find((e) => e.type === 'analysis.completed')!.payload).toMatchObject({ fallback: true });
  });

  it('falls back to the local analyzer when the double hangs past the timeout', async () => {
    openai.script('chat', { kind: 'hang' });
    const callSid = await insertCall();
    await enqueuePostCall(w.queue, calls, callSid);
    const d = await completed(callSid);
    expect(openai.requestsTo('chat')[0].clientClosed).toBe(true);
    expect(d.analysis).toMatchObject({ method: LOCAL_ANALYSIS_METHOD, disposition: 'resolved' });
  });
});
