import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Knex } from 'knex';
import { Webhook } from 'standardwebhooks';
import { setupTestDb, testDatabaseUrl, uniqueSid } from '../helpers/db';
import { waitFor } from '../helpers/async';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { migrateAndSeed } from '../../src/db/setup';
import { CallsRepo } from '../../src/db/calls';
import { enqueuePostCall } from '../../src/jobs/post-call';
import { createPostCallQueue, createRedisConnection, postCallJobId, type PostCallQueue } from '../../src/jobs/queues';
import { webhookIdFor } from '../../src/crm/webhook';

const ROOT = path.resolve(__dirname, '../..');
const SECRET = 'whsec_' + Buffer.from('drill-worker-killed-secret-32-by').toString('base64');

interface Delivery {
  callSid: string;
  webhookId: string;
  verified: boolean;
  /** Set when the sender went away before an answer (its socket closed while the request was held). */
  abandoned: boolean;
}

/**
 * CRM stand-in (Standard Webhooks, like src/cli/crm-receiver.ts) that records every delivery as it arrives and
 * holds the first delivery of `holdCallSid` open (no answer) until the test releases it; every other delivery gets 204.
 */
async function startHoldingReceiver(holdCallSid: string) {
  const wh = new Webhook(SECRET);
  const deliveries: Delivery[] = [];
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string>;
      let verified = true;
      try {
        wh.verify(body, headers);
      } catch {
        verified = false;
      }
      const d: Delivery = { callSid: JSON.parse(body)?.data?.callSid, webhookId: headers['webhook-id'], verified, abandoned: false };
      deliveries.push(d);
      if (d.callSid === holdCallSid && deliveries.filter((x) => x.callSid === holdCallSid).length === 1) {
        held.push(res);
        res.on('close', () => (d.abandoned = !res.writableEnded));
        return;
      }
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/crm/hook`,
    deliveries,
    close: async () => {
      for (const res of held) if (!res.writableEnded) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A `npx tsx workers/main.ts` process in its own process group, with its output kept for diagnostics. */
function spawnWorker(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<void> } {
  let out = '';
  const child = spawn('npx', ['tsx', 'workers/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, output: () => out, exited };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Fault drill: the post-call worker process is SIGKILLed (its whole process group) while its `crm-sync` job is
 * active — the CRM is holding the webhook request open. A second worker process must recover the stalled job
 * (BullMQ stalled-job check; lock 2 s and check every 500 ms through WORKER_LOCK_DURATION_MS /
 * WORKER_STALLED_INTERVAL_MS) and deliver it, and every delivery attempt of the call must carry the same Standard
 * Webhooks `webhook-id` so the CRM can dedupe: exactly one distinct id per call. Real worker processes
 * (`npx tsx workers/main.ts`), a private Redis, this Jest worker's own database.
 */
describe('drill: worker killed mid-job', () => {
  let redis: PrivateRedis;
  let db: Knex;
  let agentId: string;
  let producer: ReturnType<typeof createRedisConnection>;
  let queue: PostCallQueue;
  let crm: Awaited<ReturnType<typeof startHoldingReceiver>>;
  let env: Record<string, string>;
  let first: ReturnType<typeof spawnWorker>;
  const children: ChildProcess[] = [];
  const prefix = `drill-kill-${process.pid}-${Date.now()}`;
  const callSid = uniqueSid('CAdrillkill');

  // The first worker process boots here (tsx start-up takes seconds on a busy machine), idle on an empty queue.
  beforeAll(async () => {
    redis = await startPrivateRedis();
    db = await setupTestDb();
    ({ agentId } = await migrateAndSeed(db));
    producer = createRedisConnection(redis.url, 'producer');
    queue = createPostCallQueue(producer, { prefix });
    crm = await startHoldingReceiver(callSid);
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      CRM_WEBHOOK_URL: crm.url,
      CRM_WEBHOOK_SECRET: SECRET,
      CRM_RETRY_BASE_MS: '100',
      LOG_LEVEL: 'info',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '500',
    };
    first = spawnWorker(env);
    children.push(first.child);
    await waitFor('the first worker to start', async () => first.output().includes('workers started'), 50_000).catch((err) => {
      throw new Error(`${(err as Error).message}; worker output:\n${first.output()}`);
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) killGroup(c, 'SIGKILL');
    await crm?.close();
    await queue?.close();
    producer?.disconnect();
    await db?.destroy();
    await redis?.close();
  }, 30_000);

  it('a SIGKILLed worker\'s CRM job is retried by the next worker with the same webhook-id, and completes', async () => {
    const calls = new CallsRepo(db);
    await calls.create({ callSid, agentId, direction: 'inbound', from: '+14155550100', to: '+18005550199', status: 'in-progress' });
    await calls.addTurn(callSid, { role: 'agent', text: 'Thanks for calling. How can I help?', language: 'en', startMs: 0, endMs: 2000 });
    await calls.addTurn(callSid, { role: 'caller', text: 'What are your opening hours on Saturday?', language: 'en', startMs: 2500, endMs: 5000 });
    await calls.addTurn(callSid, { role: 'agent', text: 'We are open from nine to five on Saturdays.', language: 'en', startMs: 5800, endMs: 8000 });
    await calls.finish(callSid, { language: 'en', intent: null });

    await enqueuePostCall(queue, calls, callSid);

    // 1. The first worker runs finalize → csat → crm-sync, and the CRM holds its webhook request open.
    const mine = () => crm.deliveries.filter((d) => d.callSid === callSid);
    await waitFor('the first CRM delivery', async () => mine().length >= 1, 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}; worker output:\n${first.output()}`);
    });
    const jobId = postCallJobId(callSid, 'crm-sync');
    expect(await (await queue.getJob(jobId))?.getState()).toBe('active');

    // 2. SIGKILL the worker's whole process group mid-job: the request is abandoned, the job stays "active".
    killGroup(first.child, 'SIGKILL');
    await first.exited;
    await waitFor('the held request to be abandoned', async () => mine()[0].abandoned, 5_000);
    expect(await (await queue.getJob(jobId))?.getState()).toBe('active');

    // 3. A new worker finds the stalled job once its lock expired, runs it again, and the CRM accepts it.
    const second = spawnWorker(env);
    children.push(second.child);
    const job = await waitFor(
      'the crm-sync job to complete',
      // State first, then the job: a job read before it completed would carry no return value.
      async () => ((await queue.getJobState(jobId)) === 'completed' ? queue.getJob(jobId) : null),
      40_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; second worker output:\n${second.output()}`);
    });
    expect(job.stalledCounter).toBe(1); // recovered through BullMQ's stalled-job check
    expect(job.returnvalue).toMatchObject({ status: 'delivered' });
    const row = await db('crm_deliveries').where({ call_sid: callSid }).first();
    expect(row).toMatchObject({ status: 'delivered', webhook_id: webhookIdFor(callSid) });

    // Every delivery attempt of the call carried one and the same webhook-id: the CRM sees one message.
    const attempts = mine();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((d) => d.verified)).toBe(true);
    expect(new Set(attempts.map((d) => d.webhookId))).toEqual(new Set([webhookIdFor(callSid)]));
    for (const kind of ['finalize-transcript', 'analysis', 'csat'] as const) {
      expect(await (await queue.getJob(postCallJobId(callSid, kind)))?.getState()).toBe('completed');
    }

    killGroup(second.child, 'SIGTERM');
    await Promise.race([second.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
  }, 60_000);
});
