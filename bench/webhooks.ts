/**
 * Webhook delivery figures (issue 13): events written to the outbox at a steady rate (default 500/min, `--rate`)
 * for `--seconds` (default 60), relayed and delivered by the real relay and BullMQ delivery worker (in this process)
 * to a local receiver that verifies each Standard Webhooks signature. Prints one JSON line:
 * `webhook_delay_ms_p95` (outbox write → verified receipt), and `webhook_deliveries_per_s` (a burst of `--burst`
 * events, default 2000, written at once and drained). Own database (dropped after) and Redis key prefix.
 * `npx tsx bench/webhooks.ts [--rate 500] [--seconds 60] [--burst 2000]`
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { WebhookEndpointsRepo } from '../src/db/webhook-endpoints';
import { emitWebhookEvent } from '../src/db/webhook-outbox';
import { newWebhookSecret } from '../src/webhooks/secret-box';
import { startWebhookDelivery } from '../src/webhooks/start';
import { webhookApiDeps } from '../src/webhooks/config';
import { round, summarize } from './stats';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RATE = arg('rate', 500);
const SECONDS = arg('seconds', 60);
const BURST = arg('burst', 2000);
const ADMIN = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = `callcenter_bench_webhooks_${process.pid}`;
const PREFIX = `bench-webhooks-${process.pid}`;

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${NAME}"`);
  const db = createDb(ADMIN.replace(/\/[^/]*$/, `/${NAME}`), { min: 1, max: 6 });
  const producer = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const workerConn = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const secret = newWebhookSecret();
  const verifier = new Webhook(secret);
  const written = new Map<string, number>();
  const delays: number[] = [];
  let received = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      verifier.verify(body, req.headers as Record<string, string>);
      const id = JSON.parse(body).data.callSid as string;
      const t = written.get(id);
      if (t !== undefined) delays.push(performance.now() - t);
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const config = loadConfig({ NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1', QUEUE_PREFIX: PREFIX, WEBHOOK_RELAY_INTERVAL_MS: '100' });
  let running: ReturnType<typeof startWebhookDelivery> = null;
  try {
    await migrateLatest(db);
    const { box } = webhookApiDeps(config);
    await new WebhookEndpointsRepo(db).create({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, eventTypes: ['voicemail.left'], secretEnc: box!.seal(secret) });
    running = startWebhookDelivery({ config, db, workerConnection: workerConn, producerConnection: producer, logger: pino({ level: 'warn' }) });
    const emit = async (i: number, tag: string) => {
      const callSid = `CA${tag}${i}`;
      written.set(callSid, performance.now());
      await emitWebhookEvent(db, { type: 'voicemail.left', subject: { kind: 'call', id: callSid }, data: { callSid, played: true, campaignId: null, contactId: null } });
    };
    // Steady rate: delay from outbox write to verified receipt.
    const n = Math.round((RATE * SECONDS) / 60);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 60_000) / RATE;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      await emit(i, 'r');
    }
    while (received < n) await new Promise((r) => setTimeout(r, 20));
    const delay = summarize(delays);
    // Burst: throughput of delivery.
    delays.length = 0;
    const b0 = performance.now();
    const start = received;
    for (let i = 0; i < BURST; i++) await emit(i, 'b');
    while (received < start + BURST) await new Promise((r) => setTimeout(r, 20));
    const line = {
      at: new Date().toISOString(),
      name: 'webhooks',
      rate_per_min: RATE,
      events: n,
      webhook_delay_ms_p50: round(delay.p50),
      webhook_delay_ms_p95: round(delay.p95),
      webhook_delay_ms_max: round(delay.max),
      burst: BURST,
      webhook_deliveries_per_s: round((BURST * 1000) / (performance.now() - b0)),
    };
    console.log(JSON.stringify(line));
  } finally {
    await running?.stop();
    server.close();
    const keys = await producer.keys(`${PREFIX}:*`);
    if (keys.length) await producer.del(keys);
    producer.disconnect();
    workerConn.disconnect();
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${NAME}"`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
