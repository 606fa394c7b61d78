import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { CallsRepo } from '../../../src/db/calls';
import type { TurnInput } from '../../../src/domain/calls';
import { CSAT_METHOD } from '../../../src/analytics/csat';
import { PostCallRepo } from '../../../src/db/post-call';
import { enqueuePostCall } from '../../../src/jobs/post-call';
import { createPostCallQueue, createRedisConnection, postCallJobId, type PostCallQueue } from '../../../src/jobs/queues';
import { startSweeper } from '../../../src/jobs/sweeper';
import { startWorkers, type RunningWorkers } from '../../../workers';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { waitFor } from '../../helpers/async';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'whsec_' + Buffer.from('integration-test-secret-32-bytes!').toString('base64');
const PREFIX = `test-postcall-${process.pid}-${Date.now().toString(36)}`;
const AGENT_ID = 'test-postcall-agent';
const logger = pino({ level: 'silent' });

interface Received { headers: Record<string, string>; body: string; status: number }

/** Local CRM receiver: per callSid a script of HTTP statuses to answer in order (then 200). */
class Receiver {
  readonly script = new Map<string, number[]>();
  readonly got = new Map<string, Received[]>();
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const callSid = (JSON.parse(body) as { data: { callSid: string } }).data.callSid;
      const status = this.script.get(callSid)?.shift() ?? 200;
      const list = this.got.get(callSid) ?? [];
      list.push({ headers: req.headers as Record<string, string>, body, status });
      this.got.set(callSid, list);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/crm/events`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  count(callSid: string) {
    return this.got.get(callSid)?.length ?? 0;
  }
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TURNS: TurnInput[] = [
  { role: 'agent', text: 'Hello, thanks for calling. How can I help?', language: 'en', startMs: 0, endMs: 2_400 },
  { role: 'caller', text: 'Hi, what time do you open on Saturday?', language: 'en', startMs: 3_000, endMs: 5_100, intent: 'opening_hours' },
  { role: 'agent', text: 'We open at nine on Saturdays.', language: 'en', startMs: 5_900, endMs: 7_600 },
  { role: 'caller', text: 'Great, thank you so much. Goodbye!', language: 'en', startMs: 8_200, endMs: 9_900, intent: 'unknown' },
];

let db: Knex;
let calls: CallsRepo;
let postCall: PostCallRepo;
let receiver: Receiver;
let redis: ReturnType<typeof createRedisConnection>;
let workers: RunningWorkers;

/** Inserts an ended call with turns (language/intent left for finalize-transcript to fill). */
async function insertCall(turns: TurnInput[] = TURNS): Promise<string> {
  const callSid = uniqueSid('CA');
  await calls.create({ callSid, agentId: AGENT_ID, direction: 'inbound', from: '+14155550100', to: '+14155550199', status: 'in-progress' });
  for (const t of turns) await calls.addTurn(callSid, t);
  await calls.finish(callSid, { language: null, intent: null });
  return callSid;
}

const delivered = (callSid: string) =>
  waitFor(`delivery row of ${callSid}`, async () => {
    const d = await postCall.getDelivery(callSid);
    return d && d.status !== 'pending' ? d : null;
  });

beforeAll(async () => {
  db = await setupTestDb();
  calls = new CallsRepo(db);
  postCall = new PostCallRepo(db);
  await db('agents')
    .insert({ id: AGENT_ID, name: 'Post-call test agent', system_prompt: 'test', first_message: 'Hello' })
    .onConflict('id')
    .ignore();
  receiver = new Receiver();
  await receiver.start();
  redis = createRedisConnection(REDIS_URL, 'worker');
  workers = startWorkers({
    db,
    connection: redis,
    prefix: PREFIX,
    logger,
    crm: { webhookUrl: receiver.url, webhookSecret: SECRET, maxAttempts: 4, retryBaseMs: 20, timeoutMs: 2_000 },
  });
});

afterAll(async () => {
  await workers?.worker.close();
  await workers?.queue.obliterate({ force: true });
  await workers?.close();
  redis?.disconnect();
  await receiver?.stop();
  await db?.destroy();
});

describe('post-call pipeline (BullMQ + Postgres + local CRM receiver)', () => {
  it('finalizes, scores and delivers exactly one signed webhook even when enqueued twice', async () => {
    const callSid = await insertCall();
    await enqueuePostCall(workers.queue, calls, callSid);
    await enqueuePostCall(workers.queue, calls, callSid); // same jobId → ignored

    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, webhookId: `msg_${callSid}` });
    expect(d.deliveredAt).toBeInstanceOf(Date);

    // A third enqueue after completion is ignored too (completed jobs are kept), and nothing is re-sent.
    await enqueuePostCall(workers.queue, calls, callSid);
    await sleep(300);
    expect(receiver.count(callSid)).toBe(1);

    const [req] = receiver.got.get(callSid)!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(`msg_${callSid}`);
    const event = new Webhook(SECRET).verify(req.body, req.headers) as any;
    expect(event.type).toBe('call.completed');
    expect(event.data.callSid).toBe(callSid);
    expect(event.data.turns).toEqual(TURNS.map(({ role, text, language, startMs, endMs }) => ({ role, text, language, startMs, endMs })));
    expect(event.data.language).toBe('en');
    expect(event.data.intent).toBe('opening_hours'); // last caller intent that is not 'unknown'
    expect(event.data.status).toBe('completed');
    expect(event.data.csat.method).toBe(CSAT_METHOD);

    const csat = await postCall.getCsat(callSid);
    expect(csat!.score).toBeGreaterThanOrEqual(1);
    expect(csat!.score).toBeLessThanOrEqual(5);
    expect(event.data.csat.score).toBe(csat!.score);

    const call = await calls.get(callSid);
    expect(call).toMatchObject({ language: 'en', intent: 'opening_hours' });
    expect(call!.postCallEnqueuedAt).toBeInstanceOf(Date);
    const finalized = (await calls.events(callSid)).filter((e) => e.type === 'transcript.finalized');
    expect(finalized).toHaveLength(1);
    expect(finalized[0].payload).toMatchObject({ turns: 4, callerTurns: 2, agentTurns: 2, language: 'en' });
    expect(JSON.stringify(finalized[0].payload)).not.toContain('Saturday'); // counts, never the text

    const job = await workers.queue.getJob(postCallJobId(callSid, 'crm-sync'));
    expect(job!.attemptsMade).toBe(1);
    const detail = await calls.detail(callSid);
    expect(detail!.crmSync).toEqual({ status: 'delivered', attempts: 1 });
  });

  it('retries 503 twice with exponential backoff, then delivers on the 3rd attempt with the same webhook-id', async () => {
    const callSid = await insertCall();
    receiver.script.set(callSid, [503, 503]);
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null });
    const reqs = receiver.got.get(callSid)!;
    expect(reqs.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${callSid}`]));
    for (const r of reqs) expect(() => new Webhook(SECRET).verify(r.body, r.headers)).not.toThrow();
  });

  it('fails a 400 at once without retrying', async () => {
    const callSid = await insertCall();
    receiver.script.set(callSid, [400, 400, 400]);
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 400, lastError: 'HTTP 400 Bad Request', deliveredAt: null });
    const job = await workers.queue.getJob(postCallJobId(callSid, 'crm-sync'));
    await waitFor('failed job state', async () => (await job!.getState()) === 'failed');
    await sleep(300); // several backoff periods: a retry would have happened by now
    expect(receiver.count(callSid)).toBe(1);
  });

  it('marks the delivery failed after crm.maxAttempts retryable failures', async () => {
    const callSid = await insertCall();
    receiver.script.set(callSid, [503, 503, 503, 503, 503]);
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 503, lastError: 'HTTP 503 Service Unavailable' });
    expect(receiver.count(callSid)).toBe(4);
    const job = await workers.queue.getJob(postCallJobId(callSid, 'crm-sync'));
    await waitFor('failed job state', async () => (await job!.getState()) === 'failed');
    expect(job!.opts.attempts).toBe(4);
  });
});

describe('without a CRM webhook URL', () => {
  it("scores the call and records the delivery as 'skipped'", async () => {
    const conn = createRedisConnection(REDIS_URL, 'worker');
    const w = startWorkers({ db, connection: conn, prefix: `${PREFIX}-nocrm`, logger, crm: { maxAttempts: 2, retryBaseMs: 20 } });
    try {
      const callSid = await insertCall();
      await enqueuePostCall(w.queue, calls, callSid);
      const d = await delivered(callSid);
      expect(d).toMatchObject({ status: 'skipped', attempts: 0 });
      expect(await postCall.getCsat(callSid)).not.toBeNull();
      expect(receiver.count(callSid)).toBe(0);
    } finally {
      await w.worker.close();
      await w.queue.obliterate({ force: true });
      await w.close();
      conn.disconnect();
    }
  });
});

describe('enqueue idempotency and the sweeper (no worker running)', () => {
  let producer: ReturnType<typeof createRedisConnection>;
  let queue: PostCallQueue;
  beforeAll(async () => {
    producer = createRedisConnection(REDIS_URL, 'producer');
    queue = createPostCallQueue(producer, { prefix: `${PREFIX}-idle` });
    await queue.waitUntilReady();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    producer.disconnect();
  });

  it('enqueue twice → one job with id <callSid>-finalize-transcript', async () => {
    const callSid = await insertCall();
    await enqueuePostCall(queue, calls, callSid);
    await enqueuePostCall(queue, calls, callSid);
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    expect(jobs.filter((j) => j.data.callSid === callSid).map((j) => j.id)).toEqual([`${callSid}-finalize-transcript`]);
    expect((await calls.get(callSid))!.postCallEnqueuedAt).toBeInstanceOf(Date);
  });

  it('rejects a callSid that would make an invalid job id', async () => {
    await expect(enqueuePostCall(queue, calls, 'CA:bad')).rejects.toThrow(/callSid/);
  });

  it('fails fast without marking the call when Redis is unreachable (the sweeper will retry)', async () => {
    const callSid = await insertCall();
    const down = createRedisConnection('redis://127.0.0.1:1', 'producer');
    down.on('error', () => undefined);
    const downQueue = createPostCallQueue(down, { prefix: `${PREFIX}-down` });
    downQueue.on('error', () => undefined);
    try {
      const t0 = Date.now();
      await expect(enqueuePostCall(downQueue, calls, callSid, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect((await calls.get(callSid))!.postCallEnqueuedAt).toBeNull();
    } finally {
      down.disconnect();
      void downQueue.close().catch(() => undefined);
    }
  });

  it('re-enqueues an ended call whose enqueue was lost', async () => {
    const callSid = await insertCall();
    // The oldest pending call in the table, so a batch of 1 picks it even if other tests left pending calls.
    await db('calls').where({ call_sid: callSid }).update({ ended_at: new Date('1971-01-01T00:00:00Z') });
    expect((await calls.get(callSid))!.postCallEnqueuedAt).toBeNull();
    const sweeper = startSweeper({ queue, calls, logger, intervalMs: 60_000, olderThanMs: 0, batchSize: 1 });
    try {
      await waitFor('sweep of the lost call', async () => {
        await sweeper.sweepOnce();
        return (await calls.get(callSid))!.postCallEnqueuedAt;
      }, 5_000);
    } finally {
      await sweeper.stop();
    }
    const job = await queue.getJob(postCallJobId(callSid, 'finalize-transcript'));
    expect(job?.data).toEqual({ callSid });
  });
});
