/**
 * Webhook figures (issue 13), one scratch database (created, migrated, dropped after) and one Redis key prefix
 * (removed after), a local receiver verifying every Standard Webhooks signature, everything in this process:
 *
 * 1. `webhook_delay_ms_p95` (and `_p50`): `voicemail.left` events written to the outbox at `rate`/min for `seconds`,
 *    outbox write → verified receipt (the relay and the BullMQ delivery Worker; relay every 100 ms).
 * 2. `webhook_deliveries_per_s`: a burst of `burst` events written at once and drained.
 * 3. `webhook_call_completed_delay_ms_p95` (and `_p50`): at `rate` calls/min for `seconds`, each a finished inbound
 *    call written the way the engine writes it (bench/finished-call.ts) and then signalled exactly as the engine does
 *    at call end (`enqueuePostCall` on the producer's post-call queue, what `AppContext.enqueuePostCall` runs); the
 *    real post-call Workers (workers/index.ts `startWorkers`, as workers/main.ts starts them, offline analyzer)
 *    run finalize-transcript → analysis → csat → crm-sync, which writes `call.completed`; the webhook relay and
 *    delivery Worker run with the default configuration (relay every WEBHOOK_RELAY_INTERVAL_MS, default 500 ms).
 *    Delay = the call-end signal → the receiver's verified receipt of that call's `call.completed`. Context: calls
 *    lost (not received within the drain timeout), queue counts when the last call ended and at the end, load average.
 *
 * Standalone: `npx tsx bench/webhooks.ts [--rate 500] [--seconds 60] [--burst 2000]` (TEST_PG_ADMIN_URL, REDIS_URL).
 */
import os from 'node:os';
import { Client } from 'pg';
import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig, type Config } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { AgentsRepo } from '../src/db/agents';
import { CallsRepo } from '../src/db/calls';
import { WebhookEndpointsRepo } from '../src/db/webhook-endpoints';
import { emitWebhookEvent } from '../src/db/webhook-outbox';
import { enqueuePostCall } from '../src/jobs/post-call';
import { createPostCallQueue, createRedisConnection } from '../src/jobs/queues';
import { newWebhookSecret } from '../src/webhooks/secret-box';
import { startWebhookDelivery } from '../src/webhooks/start';
import { crmConnectorDeps, webhookApiDeps } from '../src/webhooks/config';
import { WEBHOOK_QUEUE } from '../src/webhooks/delivery-queue';
import { buildCallAnalyzer } from '../src/providers/call-analyzer';
import { DEFAULT_LLM_ANALYSIS_TIMEOUT_MS } from '../src/analytics/call-analysis';
import { startWorkers } from '../workers';
import { BENCH_AGENT_ID, BENCH_CALL_DURATION_S, writeFinishedCall } from './finished-call';
import { WebhookReceiver, type Receipt } from './webhook-receiver';
import { emit, progress, round, summarize } from './stats';

/** Options of {@link webhookFigures}. */
export interface WebhookFiguresOptions {
  /** Any database URL on the PostgreSQL server where the scratch database is created (e.g. `…/postgres`). */
  adminDatabaseUrl: string;
  redisUrl: string;
  /** Events, then calls, per minute. Default 500. */
  rate?: number;
  /** Length of each steady-rate phase (s). Default 60. */
  seconds?: number;
  /** Events of the burst. Default 2000. */
  burst?: number;
  /** How long (ms) the call phase waits for the last `call.completed` after the last call ended. Default 120 000. */
  drainTimeoutMs?: number;
}

/** Relay interval (ms) of phases 1 and 2 (as the original standalone benchmark ran them). */
const FAST_RELAY_MS = 100;

class Interrupted extends Error {}

/**
 * Measures and prints (bench/stats.ts `emit`, one JSON line each) `webhook_delay_ms_p95`, `webhook_delay_ms_p50`,
 * `webhook_deliveries_per_s`, `webhook_call_completed_delay_ms_p95` and `webhook_call_completed_delay_ms_p50`
 * (see the module comment for what each measures). Creates its scratch database `callcenter_bench_webhooks_<pid>`
 * on the server of `adminDatabaseUrl` and uses the Redis key prefix `bench-webhooks-<pid>-<t>`; both are removed
 * before it returns, also on error or SIGINT/SIGTERM (which then reject with 'interrupted').
 * @throws Error on a failed phase (database, Redis) or an interrupt; figures already printed stay printed.
 */
export async function webhookFigures(o: WebhookFiguresOptions): Promise<void> {
  const rate = o.rate ?? 500;
  const seconds = o.seconds ?? 60;
  const burst = o.burst ?? 2000;
  const drainTimeoutMs = o.drainTimeoutMs ?? 120_000;
  const name = `callcenter_bench_webhooks_${process.pid}`;
  const prefix = `bench-webhooks-${process.pid}-${Date.now().toString(36)}`;
  const dbUrl = new URL(o.adminDatabaseUrl);
  dbUrl.pathname = `/${name}`;

  let interrupted = false;
  const onSignal = () => {
    progress('webhooks: interrupted, cleaning up');
    interrupted = true;
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const sleep = async (ms: number) => {
    if (interrupted) throw new Interrupted('interrupted');
    await new Promise((r) => setTimeout(r, ms));
  };

  const admin = new Client({ connectionString: o.adminDatabaseUrl });
  await admin.connect();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    cleanups.push(() => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    const producer = createRedisConnection(o.redisUrl, 'producer');
    const workerConn = createRedisConnection(o.redisUrl, 'worker');
    cleanups.push(() => workerConn.disconnect());
    cleanups.push(async () => {
      await removePrefix(producer, prefix);
      producer.disconnect();
    });
    // Two pools, as the server and the worker process would have: the engine writes calls, the workers the rest.
    const db = createDb(dbUrl.toString(), { min: 1, max: 6 });
    const workerDb = createDb(dbUrl.toString());
    cleanups.push(() => db.destroy(), () => workerDb.destroy());
    await migrateLatest(db);

    const receipts = new Map<string, Receipt>();
    let duplicates = 0;
    const secret = newWebhookSecret();
    const rx = new WebhookReceiver(secret, (r) => {
      const key = `${r.type}|${r.callSid}`;
      if (receipts.has(key)) duplicates++;
      else receipts.set(key, r);
    });
    const url = await rx.start();
    cleanups.push(() => rx.stop());

    const baseEnv = { NODE_ENV: 'development', QUEUE_PREFIX: prefix, WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1', STT_PROVIDER: 'fake', LLM_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local' };
    const fastConfig = loadConfig({ ...baseEnv, WEBHOOK_RELAY_INTERVAL_MS: String(FAST_RELAY_MS) });
    const config = loadConfig(baseEnv);
    const { box } = webhookApiDeps(config);
    if (!box) throw new Error('no webhook secrets key');
    await new WebhookEndpointsRepo(db).create({ url, eventTypes: ['voicemail.left', 'call.completed'], secretEnc: box.seal(secret) });
    const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
    const startDelivery = (c: Readonly<Config>) => {
      const d = startWebhookDelivery({ config: c, db: workerDb, workerConnection: workerConn, producerConnection: producer, logger });
      if (!d) throw new Error('webhook delivery did not start');
      return d;
    };

    // 1 and 2: outbox write → verified receipt, and burst throughput.
    const fast = startDelivery(fastConfig);
    const stopFast = once(() => fast.stop());
    cleanups.push(stopFast);
    await outboxFigures({ db, rate, seconds, burst, receipts, sleep });
    await stopFast();

    // 3: call end → call.completed.
    await new AgentsRepo(db).upsert({ id: BENCH_AGENT_ID, name: 'Bench webhooks agent', systemPrompt: 'You answer questions about a dental practice.', firstMessage: 'Hello, thanks for calling Acme Dental. How can I help you today?', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: ['opening_hours', 'appointment', 'goodbye'], handoffNumber: null, isDefault: true });
    const delivery = startDelivery(config);
    cleanups.push(() => delivery.stop());
    const workers = startWorkers({
      db: workerDb,
      connection: workerConn,
      prefix,
      logger,
      crm: config.crm,
      connectors: { ...crmConnectorDeps(config), publicBaseUrl: config.publicBaseUrl },
      analysis: { llm: buildCallAnalyzer(config, DEFAULT_LLM_ANALYSIS_TIMEOUT_MS), llmTimeoutMs: DEFAULT_LLM_ANALYSIS_TIMEOUT_MS },
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
    });
    cleanups.push(() => workers.close());
    // The engine's producer handle, as src/context.ts builds it (fail-fast connection, same prefix).
    const engineQueue = createPostCallQueue(producer, { prefix });
    engineQueue.on('error', (err) => logger.warn({ err: err.message }, 'post-call queue error'));
    const webhookQueue = new Queue(WEBHOOK_QUEUE, { connection: producer, prefix });
    webhookQueue.on('error', (err) => logger.warn({ err: err.message }, 'webhook queue error'));
    cleanups.push(() => engineQueue.close(), () => webhookQueue.close());
    await callCompletedFigures({ db, calls: new CallsRepo(db), engineQueue, webhookQueue, logger, rate, seconds, drainTimeoutMs, receipts, sleep, relayMs: config.webhooks.relayIntervalMs, duplicates: () => duplicates, rejected: () => rx.rejected });
  } catch (err) {
    if (err instanceof Interrupted) throw new Error('interrupted');
    throw err;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    // Reverse order: workers and delivery stop before their pools and connections, the database is dropped last.
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        progress(`webhooks: cleanup step failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await admin.end();
  }
}

/** Phases 1 and 2 (see the module comment): `voicemail.left` outbox events keyed by a synthetic callSid. */
async function outboxFigures(p: { db: Knex; rate: number; seconds: number; burst: number; receipts: Map<string, Receipt>; sleep: (ms: number) => Promise<void> }): Promise<void> {
  const written = new Map<string, number>();
  const write = async (callSid: string) => {
    written.set(callSid, performance.now());
    await emitWebhookEvent(p.db, { type: 'voicemail.left', subject: { kind: 'call', id: callSid }, data: { callSid, played: true, campaignId: null, contactId: null } });
  };
  const got = (callSid: string) => p.receipts.get(`voicemail.left|${callSid}`);
  const n = Math.round((p.rate * p.seconds) / 60);
  progress(`webhooks: ${n} outbox events at ${p.rate}/min (relay every ${FAST_RELAY_MS} ms)`);
  const load0 = os.loadavg()[0];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 60_000) / p.rate - performance.now();
    if (wait > 0) await p.sleep(wait);
    await write(`CAr${i}`);
  }
  const steady = [...written.keys()];
  while (steady.some((s) => !got(s))) await p.sleep(20);
  const delays = steady.map((s) => got(s)!.at - written.get(s)!);
  const d = summarize(delays);
  const ctx = { rate_per_min: p.rate, events: n, relay_interval_ms: FAST_RELAY_MS, loadavg_1m_start: round(load0, 2), loadavg_1m_end: round(os.loadavg()[0], 2), measured: 'voicemail.left outbox write → verified receipt by a local receiver (relay + BullMQ delivery, in-process)' };
  emit({ name: 'webhook_delay_ms_p95', value: round(d.p95), unit: 'ms', p50: round(d.p50), max: round(d.max), ...ctx });
  emit({ name: 'webhook_delay_ms_p50', value: round(d.p50), unit: 'ms', ...ctx });

  progress(`webhooks: burst of ${p.burst} events`);
  const b0 = performance.now();
  const sids = Array.from({ length: p.burst }, (_, i) => `CAb${i}`);
  for (const s of sids) await write(s);
  while (sids.some((s) => !got(s))) await p.sleep(20);
  const last = Math.max(...sids.map((s) => got(s)!.at));
  emit({ name: 'webhook_deliveries_per_s', value: round((p.burst * 1000) / (last - b0)), unit: 'deliveries/s', burst: p.burst, relay_interval_ms: FAST_RELAY_MS, loadavg_1m: round(os.loadavg()[0], 2), measured: 'first outbox write of the burst → last verified receipt' });
}

interface CallPhase {
  db: Knex;
  calls: CallsRepo;
  engineQueue: ReturnType<typeof createPostCallQueue>;
  webhookQueue: Queue;
  logger: pino.Logger;
  rate: number;
  seconds: number;
  drainTimeoutMs: number;
  relayMs: number;
  receipts: Map<string, Receipt>;
  sleep: (ms: number) => Promise<void>;
  duplicates(): number;
  rejected(): number;
}

/** Phase 3 (see the module comment). */
async function callCompletedFigures(p: CallPhase): Promise<void> {
  const n = Math.round((p.rate * p.seconds) / 60);
  progress(`webhooks: ${n} finished calls at ${p.rate}/min through the post-call workers (relay every ${p.relayMs} ms)`);
  const ended = new Map<string, number>();
  const failed: string[] = [];
  const tasks: Array<Promise<void>> = [];
  const counts = async () => {
    const [pc, wh] = await Promise.all([p.engineQueue.getJobCounts('waiting', 'active', 'delayed', 'failed'), p.webhookQueue.getJobCounts('waiting', 'active', 'delayed', 'failed')]);
    return { post_call: pc, webhook_delivery: wh };
  };
  let maxWaiting = { post_call: 0, webhook_delivery: 0 };
  const sampler = setInterval(() => {
    counts()
      .then((c) => {
        maxWaiting = { post_call: Math.max(maxWaiting.post_call, c.post_call.waiting ?? 0), webhook_delivery: Math.max(maxWaiting.webhook_delivery, c.webhook_delivery.waiting ?? 0) };
      })
      .catch(() => undefined);
  }, 1_000);
  const load0 = os.loadavg()[0];
  const runId = Date.now().toString(36);
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 60_000) / p.rate - performance.now();
      if (wait > 0) await p.sleep(wait);
      const callSid = `CAbench${runId}${String(i).padStart(6, '0')}`;
      const from = `+1415555${String(1000 + (i % 9000)).padStart(4, '0')}`;
      tasks.push(
        (async () => {
          await writeFinishedCall(p.db, p.calls, p.logger, { callSid, from, to: '+14155550199' });
          // Call end: the engine's onEnded after every row is written (src/engine/call-end.ts → AppContext.enqueuePostCall).
          ended.set(callSid, performance.now());
          await enqueuePostCall(p.engineQueue, p.calls, callSid);
        })().catch((err) => {
          failed.push(callSid);
          p.logger.error({ callSid, err: err instanceof Error ? err.message : String(err) }, 'simulated call failed');
        }),
      );
    }
    await Promise.all(tasks);
    const sendSeconds = (performance.now() - t0) / 1000;
    const atLastCall = await counts();
    const loadAtLastCall = os.loadavg()[0];
    const got = (s: string) => p.receipts.get(`call.completed|${s}`);
    const deadline = performance.now() + p.drainTimeoutMs;
    while ([...ended.keys()].some((s) => !got(s)) && performance.now() < deadline) await p.sleep(50);
    const atEnd = await counts();
    const delays = [...ended].flatMap(([s, t]) => (got(s) ? [got(s)!.at - t] : []));
    const d = summarize(delays);
    const lost = ended.size - delays.length;
    const ctx = {
      rate_per_min: p.rate,
      seconds: p.seconds,
      calls: n,
      calls_signalled: ended.size,
      calls_failed_to_write: failed.length,
      n: d.n,
      lost,
      drain_timeout_ms: p.drainTimeoutMs,
      duplicates: p.duplicates(),
      bad_signatures: p.rejected(),
      send_seconds: round(sendSeconds, 1),
      call_duration_s: BENCH_CALL_DURATION_S,
      relay_interval_ms: p.relayMs,
      queues_at_last_call: atLastCall,
      queues_at_end: atEnd,
      max_waiting: maxWaiting,
      loadavg_1m_start: round(load0, 2),
      loadavg_1m_at_last_call: round(loadAtLastCall, 2),
      loadavg: os.loadavg().map((x) => round(x, 2)),
      cpus: os.cpus().length,
      measured:
        'call end (enqueuePostCall, as the engine signals it after writing the call rows) → verified receipt of call.completed; post-call chain finalize-transcript → analysis (offline) → csat → crm-sync, webhook relay + delivery: all real, in this process',
    };
    emit({ name: 'webhook_call_completed_delay_ms_p95', value: round(d.p95), unit: 'ms', p50: round(d.p50), p99: round(d.p99), max: round(d.max), ...ctx });
    emit({ name: 'webhook_call_completed_delay_ms_p50', value: round(d.p50), unit: 'ms', n: d.n, lost });
  } finally {
    clearInterval(sampler);
    await Promise.allSettled(tasks);
  }
}

/** Deletes every Redis key under `<prefix>:` (SCAN, batches of 500 UNLINKs). */
async function removePrefix(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (let i = 0; i < keys.length; i += 500) removed += await redis.unlink(...keys.slice(i, i + 500));
  } while (cursor !== '0');
  return removed;
}

/** `f` run at most once; later calls return the first call's promise. */
function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}

if (require.main === module) {
  const arg = (flag: string, def: number) => {
    const i = process.argv.indexOf(`--${flag}`);
    const v = i > 0 ? Number(process.argv[i + 1]) : def;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${flag} must be a positive number`);
    return v;
  };
  webhookFigures({
    adminDatabaseUrl: process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    rate: arg('rate', 500),
    seconds: arg('seconds', 60),
    burst: arg('burst', 2000),
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
