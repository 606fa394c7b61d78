import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { waitFor } from '../helpers/async';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { startCrmReceiver } from '../../src/cli/crm-receiver';
import { migrateAndSeed } from '../../src/db/setup';
import { CallsRepo } from '../../src/db/calls';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { startWorkers, type RunningWorkers } from '../../workers';
import { createPostCallQueue, createRedisConnection, postCallJobId, type PostCallQueue } from '../../src/jobs/queues';
import { startSweeper, type Sweeper } from '../../src/jobs/sweeper';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { webhookIdFor } from '../../src/crm/webhook';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeTts } from '../../src/providers/tts/fake';

const SECRET = 'whsec_ZHJpbGwtcmVkaXMtcmVzdGFydC1zZWNyZXQtMTIzNA==';
const CALLER_TEXT = 'What are your opening hours on Saturday?';
const REPLY_TEXT = 'We are open from nine to five on Saturdays.';

/**
 * Fault drill: the queue's Redis (a private redis-server this test spawns, never the shared one) dies during a call
 * and comes back after the call ended. The call itself must not notice (no Redis on the audio path), and no
 * post-call work may be lost: the engine's own enqueue fails while Redis is down, and the sweeper (src/jobs/sweeper.ts)
 * enqueues the call once Redis is back; the workers then finalize the transcript, score CSAT and push to the CRM.
 * Real server + real Silero VAD on a real recording via the Twilio simulator; scripted fake STT/LLM/TTS; the
 * shared PostgreSQL (this Jest worker's own database).
 */
describe('drill: Redis restarted mid-call', () => {
  let redis: PrivateRedis;
  let db: Knex;
  let config: Readonly<Config>;
  let ctx: AppContext;
  let server: RunningServer;
  let workers: RunningWorkers;
  let workerRedis: ReturnType<typeof createRedisConnection>;
  let sweeperRedis: ReturnType<typeof createRedisConnection>;
  let sweeperQueue: PostCallQueue;
  let sweeper: Sweeper;
  let crm: Awaited<ReturnType<typeof startCrmReceiver>>;
  /** Outcome of every enqueue the engine attempted at the end of a call (`ctx.enqueuePostCall`). */
  const engineEnqueues: Array<{ callSid: string; ok: boolean; error?: string }> = [];
  /** The drill's calls: the sweeper only sees these (other test files may leave unmarked calls in this database). */
  const ours = new Set<string>();
  const prefix = `drill-redis-${process.pid}-${Date.now()}`;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = await setupTestDb();
    await migrateAndSeed(db);
    crm = await startCrmReceiver(SECRET);
    config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: redis.url,
      CRM_WEBHOOK_URL: crm.url,
      CRM_WEBHOOK_SECRET: SECRET,
      CRM_RETRY_BASE_MS: '100',
      LOG_LEVEL: 'silent',
    });
    const providers = {
      stt: new FakeStt({ respond: () => CALLER_TEXT }),
      llm: new FakeLlm({ respond: () => REPLY_TEXT }),
      tts: new FakeTts({ firstByteMs: 5, msPerChar: 25 }),
    };
    ctx = await buildAppContext(config, logger, { queuePrefix: prefix, providers });
    const enqueue = ctx.enqueuePostCall;
    ctx.enqueuePostCall = async (callSid) => {
      try {
        await enqueue(callSid);
        engineEnqueues.push({ callSid, ok: true });
      } catch (err) {
        engineEnqueues.push({ callSid, ok: false, error: (err as Error).message });
        throw err;
      }
    };
    server = await startServer(config, ctx);
    // The worker process's pieces, in-process: post-call Workers on a blocking connection, and the sweeper on its
    // own fail-fast producer connection (as workers/main.ts wires them), sweeping every 250 ms.
    workerRedis = createRedisConnection(redis.url, 'worker');
    workers = startWorkers({ db: ctx.db, connection: workerRedis, prefix, logger, crm: config.crm });
    sweeperRedis = createRedisConnection(redis.url, 'producer');
    sweeperQueue = createPostCallQueue(sweeperRedis, { prefix });
    sweeperQueue.on('error', () => undefined);
    const calls = new CallsRepo(ctx.db);
    sweeper = startSweeper({
      queue: sweeperQueue,
      calls: {
        pendingPostCall: async (limit, olderThanMs) => (await calls.pendingPostCall(limit, olderThanMs)).filter((sid) => ours.has(sid)),
        markPostCallEnqueued: (sid) => calls.markPostCallEnqueued(sid),
      },
      logger,
      intervalMs: 250,
      olderThanMs: 0,
    });
  }, 60_000);

  afterAll(async () => {
    await sweeper?.stop();
    await server?.close();
    if (redis?.running()) await workers?.queue.obliterate({ force: true }).catch(() => undefined);
    await workers?.close();
    await sweeperQueue?.close();
    workerRedis?.disconnect();
    sweeperRedis?.disconnect();
    await ctx?.close();
    await crm?.close();
    await db?.destroy();
    await redis?.close();
  }, 30_000);

  it('the call is answered while Redis is down, and its post-call jobs run once Redis is back', async () => {
    let stopping: Promise<void> | null = null;
    const sim = await simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav')),
      settleMs: 800,
      hooks: {
        // Redis dies (SIGKILL) as soon as the greeting's first audio reaches the caller: the whole caller turn,
        // the reply and the end of the call happen without it.
        onAgentMedia: () => {
          stopping ??= redis.stop('SIGKILL');
        },
      },
    });
    ours.add(sim.callSid);
    expect(stopping).not.toBeNull();
    await stopping;
    expect(redis.running()).toBe(false);

    // The call went on: the caller's turn was heard and answered in speech while Redis was down.
    expect(sim.closeCode).toBe(1000);
    expect(sim.replyLatencyMs).not.toBeNull();
    const turns = () => db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    const stored = await waitFor('the reply turn', async () => {
      const t = await turns();
      return t.length >= 3 ? t : null;
    });
    expect(stored.map((t) => [t.role, t.text])).toEqual([
      ['agent', expect.stringMatching(/thanks for calling/i)],
      ['caller', CALLER_TEXT],
      ['agent', REPLY_TEXT],
    ]);

    // The engine tried to enqueue at the end of the call, failed (Redis down) and did not mark the call.
    const attempt = await waitFor('the engine enqueue attempt', async () => engineEnqueues.find((e) => e.callSid === sim.callSid));
    expect(attempt.ok).toBe(false);
    const row = await db('calls').where({ call_sid: sim.callSid }).first();
    expect(row.ended_at).not.toBeNull();
    expect(row.post_call_enqueued_at).toBeNull();
    // Several sweeps run against the dead Redis and must not mark it either.
    await new Promise((r) => setTimeout(r, 600));
    expect((await db('calls').where({ call_sid: sim.callSid }).first()).post_call_enqueued_at).toBeNull();

    // Redis comes back (empty: nothing was persisted). The sweeper enqueues the call and the workers run the pipeline.
    await redis.start();
    await waitFor('post_call_enqueued_at', async () => (await db('calls').where({ call_sid: sim.callSid }).first()).post_call_enqueued_at, 20_000);
    const delivery = await waitFor(
      'the CRM delivery',
      async () => {
        const d = await db('crm_deliveries').where({ call_sid: sim.callSid }).first();
        return d?.status === 'delivered' ? d : null;
      },
      20_000,
    );
    expect(delivery.webhook_id).toBe(webhookIdFor(sim.callSid));
    expect(await db('call_events').where({ call_sid: sim.callSid, type: 'transcript.finalized' })).toHaveLength(1);
    const csat = await db('call_csat').where({ call_sid: sim.callSid }).first();
    expect(csat?.score).toBeGreaterThanOrEqual(1);
    for (const kind of ['finalize-transcript', 'analysis', 'csat', 'crm-sync'] as const) {
      expect(await (await workers.queue.getJob(postCallJobId(sim.callSid, kind)))?.getState()).toBe('completed');
    }
    const received = crm.received.filter((r) => r.payload?.data?.callSid === sim.callSid);
    expect(received).toHaveLength(1);
    expect(received[0].verified).toBe(true);
    expect(received[0].payload.data.turns.map((t: { role: string }) => t.role)).toEqual(['agent', 'caller', 'agent']);

    // The server's own fail-fast producer connection reconnects too (on ioredis' backoff, up to 2 s apart): its
    // enqueue succeeds again (a repeat is deduped by jobId).
    await waitFor('the server enqueue to succeed', async () => ctx.enqueuePostCall(sim.callSid).then(() => true, () => false), 10_000);
    const outcomes = engineEnqueues.filter((e) => e.callSid === sim.callSid).map((e) => e.ok);
    expect(outcomes[0]).toBe(false);
    expect(outcomes.at(-1)).toBe(true);
    expect(await (await workers.queue.getJob(postCallJobId(sim.callSid, 'finalize-transcript')))?.getState()).toBe('completed');
  }, 60_000);
});
