import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../../src/config';
import { CallsRepo } from '../../../src/db/calls';
import { WebhookEndpointsRepo } from '../../../src/db/webhook-endpoints';
import { emitWebhookEvent, WebhookOutboxRepo } from '../../../src/db/webhook-outbox';
import { webhookEndpointRoutes } from '../../../src/http/api/webhook-endpoints';
import { webhookApiDeps } from '../../../src/webhooks/config';
import { createWebhookQueue, webhookBackoffMs, type WebhookQueue } from '../../../src/webhooks/delivery-queue';
import { startDeliveryWorker } from '../../../src/webhooks/delivery-worker';
import { relayOnce, requeueStale } from '../../../src/webhooks/relay';
import type { Resolver } from '../../../src/webhooks/ssrf';
import { serveRoutes } from '../../helpers/api-app';
import { waitFor } from '../../helpers/async';
import { setupTestDb, uniqueSid } from '../../helpers/db';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-webhooks-${process.pid}-${Date.now().toString(36)}`;
const AGENT_ID = 'test-webhooks-agent';
const logger = pino({ level: 'silent' });

/** Test-only DNS: `rebind.test` → a private address, `public.test` → a public one, `local.test` → 127.0.0.1. */
const resolver: Resolver = async (host) => {
  const table: Record<string, string> = { 'rebind.test': '10.1.2.3', 'meta.test': '169.254.169.254', 'public.test': '93.184.216.34', 'local.test': '127.0.0.1' };
  if (!table[host]) throw new Error('ENOTFOUND');
  return [{ address: table[host], family: 4 }];
};

interface Got { id: string; signature: string; body: string; type: string; sequence: number; subjectId: string }

/** A local receiver that verifies every request with `standardwebhooks` and answers from a status script (then 200). */
class Receiver {
  script: number[] = [];
  secrets: string[] = [];
  got: Got[] = [];
  rejected = 0;
  url = '';
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const headers = req.headers as Record<string, string>;
      try {
        for (const s of this.secrets) new Webhook(s).verify(body, headers); // throws when no entry verifies
      } catch {
        this.rejected++;
        res.writeHead(400).end('bad signature');
        return;
      }
      const status = this.script.shift() ?? 200;
      if (status === 200) {
        const e = JSON.parse(body);
        this.got.push({ id: headers['webhook-id'], signature: headers['webhook-signature'], body, type: e.type, sequence: e.sequence, subjectId: e.subject.id });
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'down for maintenance');
    });
  });
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://local.test:${(this.server.address() as AddressInfo).port}/hooks`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  of(subjectId: string) {
    return this.got.filter((g) => g.subjectId === subjectId);
  }
}

describe('signed event webhooks (outbox → relay → BullMQ → receiver)', () => {
  let db: Knex;
  let producer: Redis;
  let workerConn: Redis;
  let queue: WebhookQueue;
  let api: Awaited<ReturnType<typeof serveRoutes>>;
  const receiver = new Receiver();
  const config = loadConfig({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE_HOSTS: 'local.test', QUEUE_PREFIX: PREFIX });
  const deps = webhookApiDeps(config, resolver);
  let worker: ReturnType<typeof startDeliveryWorker> | null = null;
  const startWorker = () => {
    worker = startDeliveryWorker({ db, ...deps, box: deps.box!, logger, timeoutMs: 2_000, disableAfterMs: 3 * 86_400_000, connection: workerConn, prefix: PREFIX, retryBaseMs: 30, retryMaxDelayMs: 120 });
  };
  const relay = () => relayOnce({ db, queue, logger });

  beforeAll(async () => {
    db = await setupTestDb();
    await db('agents').insert({ id: AGENT_ID, name: 'Webhooks test agent', system_prompt: 'test', first_message: 'Hello' }).onConflict('id').ignore();
    // Endpoints of earlier runs would receive this run's events: this file owns the table in its database.
    await db('webhook_endpoints').delete();
    // Events earlier suites left unrelayed in this worker's database would go to this file's endpoints too (and take
    // the receiver's scripted 503s): they are not this file's to deliver.
    await db('webhook_outbox').whereNull('relayed_at').update({ relayed_at: db.fn.now() });
    producer = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    workerConn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = createWebhookQueue(producer, { prefix: PREFIX, attempts: 6 });
    api = await serveRoutes(webhookEndpointRoutes({ db, ...deps }));
    await receiver.start();
  });

  afterAll(async () => {
    await worker?.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await api.close();
    await receiver.stop();
    producer.disconnect();
    workerConn.disconnect();
    await db.destroy();
  });

  const createEndpoint = async (eventTypes: string[]) => {
    const res = await fetch(`${api.base}/api/webhook-endpoints`, { method: 'POST', headers: api.as('admin'), body: JSON.stringify({ url: receiver.url, eventTypes }) });
    expect(res.status).toBe(201);
    return (await res.json()) as { webhookEndpoint: { id: string }; secret: string };
  };

  /** A call that starts, transfers and ends through CallsRepo, plus call.completed: 4 events of one subject. */
  const runCall = async () => {
    const calls = new CallsRepo(db);
    const callSid = uniqueSid('CAwh');
    await calls.create({ callSid, agentId: AGENT_ID, direction: 'inbound', from: '+14155550100', to: '+14155550199', status: 'ringing' });
    expect(await calls.attachStream(callSid, uniqueSid('MZ'))).toBe(true);
    await calls.setTransfer(callSid, { target: '+14155550123', reason: 'caller asked', summary: 'wants a person', at: new Date().toISOString() });
    await calls.finish(callSid, { language: 'en', intent: null });
    await calls.finish(callSid, { language: 'en', intent: null }); // a repeated end writes no second call.ended
    await calls.applyStatus(callSid, 'completed', 5, {});
    return callSid;
  };

  it('refuses endpoint URLs at private, loopback, link-local and metadata addresses (and names resolving to them), 400 with the reason', async () => {
    for (const url of ['http://127.0.0.1:9/x', 'http://10.0.0.5/x', 'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/', 'http://[::1]/', 'http://100.64.1.1/', 'https://rebind.test/hook', 'https://meta.test/hook']) {
      const res = await fetch(`${api.base}/api/webhook-endpoints`, { method: 'POST', headers: api.as('admin'), body: JSON.stringify({ url, eventTypes: ['call.started'] }) });
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(((await res.json()) as any).error).toMatch(/^body\.url: host .* (loopback|private|linkLocal|uniqueLocal|carrierGradeNat)/);
    }
    const ok = await fetch(`${api.base}/api/webhook-endpoints`, { method: 'POST', headers: api.as('admin'), body: JSON.stringify({ url: 'https://public.test/hook', eventTypes: ['call.started'], enabled: false }) });
    expect(ok.status).toBe(201);
    const { webhookEndpoint } = (await ok.json()) as any;
    // A PATCH is checked too; viewers read but cannot write; the secret is never shown again.
    const patch = await fetch(`${api.base}/api/webhook-endpoints/${webhookEndpoint.id}`, { method: 'PATCH', headers: api.as('admin'), body: JSON.stringify({ url: 'http://10.9.9.9/' }) });
    expect(patch.status).toBe(400);
    expect((await fetch(`${api.base}/api/webhook-endpoints`, { method: 'POST', headers: api.as('supervisor'), body: JSON.stringify({ url: 'https://public.test/', eventTypes: ['call.started'] }) })).status).toBe(403);
    const list = await (await fetch(`${api.base}/api/webhook-endpoints`, { headers: api.as('viewer') })).text();
    expect(list).toContain(webhookEndpoint.id);
    expect(list).not.toMatch(/whsec_|secret_enc|v1\./);
    expect((await db('webhook_endpoints').where({ id: webhookEndpoint.id }).first()).secret_enc).not.toContain('whsec_');
    expect((await fetch(`${api.base}/api/webhook-endpoints/${webhookEndpoint.id}`, { method: 'DELETE', headers: api.as('admin') })).status).toBe(204);
  });

  it('delivers a call’s events with valid signatures and sequence numbers, after the receiver was down for its first attempts', async () => {
    const ep = await createEndpoint(['call.started', 'call.ended', 'call.transferred', 'call.completed']);
    receiver.secrets = [ep.secret];
    receiver.script = [503, 503, 503];
    const callSid = await runCall();
    await new WebhookOutboxRepo(db).replay(db, ep.webhookEndpoint.id, { deliveryId: '0' }); // no such delivery: nothing
    await db.transaction((trx) =>
      emitWebhookEvent(trx, { type: 'call.completed', subject: { kind: 'call', id: callSid }, data: { callSid, direction: 'inbound', from: '+1', to: '+2', language: 'en', turns: [], intent: null, csat: { score: 4, method: 'heuristic-v1' }, summary: null, disposition: null, extractedFields: null, status: 'completed', startedAt: new Date().toISOString(), endedAt: new Date().toISOString() } }),
    );
    expect(await relay()).toBeGreaterThanOrEqual(4);
    startWorker();
    const got = await waitFor('4 events', async () => (receiver.of(callSid).length >= 4 ? receiver.of(callSid) : null));
    expect(got.map((g) => [g.type, g.sequence]).sort((a, b) => (a[1] as number) - (b[1] as number))).toEqual([
      ['call.started', 1],
      ['call.transferred', 2],
      ['call.ended', 3],
      ['call.completed', 4],
    ]);
    expect(receiver.rejected).toBe(0);
    const deliveries: any = await (await fetch(`${api.base}/api/webhook-endpoints/${ep.webhookEndpoint.id}/deliveries`, { headers: api.as('viewer') })).json();
    const failed = deliveries.deliveries.flatMap((d: any) => d.log).filter((l: any) => l.statusCode === 503);
    expect(failed).toHaveLength(3);
    expect(failed[0]).toMatchObject({ responseExcerpt: 'down for maintenance', error: 'HTTP 503 Service Unavailable' });
    expect(failed[0].latencyMs).toEqual(expect.any(Number));
    await waitFor('every delivery delivered', async () => (await new WebhookOutboxRepo(db).deliveries(ep.webhookEndpoint.id, { limit: 10 })).every((d) => d.status === 'delivered'));

    // Replay of one delivery: the same webhook-id and body again.
    const one = deliveries.deliveries.find((d: any) => d.type === 'call.ended');
    const before = receiver.got.length;
    expect((await fetch(`${api.base}/api/webhook-deliveries/${one.id}/replay`, { method: 'POST', headers: api.as('admin') })).status).toBe(202);
    await relay();
    // Other suites' calls in this database also write outbox rows (delivered to this endpoint too): find the replay by id.
    const again = await waitFor('the replay', async () => receiver.got.slice(before).find((g) => g.id === one.eventId) ?? null);
    expect(again.id).toBe(one.eventId);
    expect(again.body).toBe(got.find((g) => g.type === 'call.ended')!.body);
    await db('webhook_endpoints').where({ id: ep.webhookEndpoint.id }).delete();
  });

  it('after a rotation, deliveries carry two signatures and each secret verifies on its own', async () => {
    const ep = await createEndpoint(['campaign.paused']);
    const rot: any = await (await fetch(`${api.base}/api/webhook-endpoints/${ep.webhookEndpoint.id}/rotate-secret`, { method: 'POST', headers: api.as('admin') })).json();
    expect(rot.secret).not.toBe(ep.secret);
    receiver.secrets = [ep.secret, rot.secret]; // the receiver checks each secret separately
    const campaignId = uniqueSid('camp');
    await emitWebhookEvent(db, { type: 'campaign.paused', subject: { kind: 'campaign', id: campaignId }, data: { campaignId, reason: 'dial breaker' } });
    await relay();
    if (!worker) startWorker();
    const [g] = await waitFor('the paused event', async () => (receiver.of(campaignId).length ? receiver.of(campaignId) : null));
    expect(g.signature.split(' ')).toHaveLength(2);
    expect(g.sequence).toBe(1);
    await db('webhook_endpoints').where({ id: ep.webhookEndpoint.id }).delete();
  });

  it('loses nothing when the relay dies before enqueueing or Redis loses the queued jobs', async () => {
    await worker?.close();
    worker = null;
    const ep = await createEndpoint(['voicemail.left']);
    receiver.secrets = [ep.secret];
    const sids = [uniqueSid('CAvm'), uniqueSid('CAvm')];
    for (const callSid of sids) await emitWebhookEvent(db, { type: 'voicemail.left', subject: { kind: 'call', id: callSid }, data: { callSid, played: true, campaignId: null, contactId: null } });
    // The relay "crashes" between creating deliveries and the enqueue: nothing is marked relayed.
    const outbox = new WebhookOutboxRepo(db);
    await expect(outbox.relayBatch(100, new Date(), async () => Promise.reject(new Error('killed')))).rejects.toThrow('killed');
    expect(await db('webhook_outbox').whereNull('relayed_at').whereIn('subject_id', sids).count({ n: '*' })).toEqual([{ n: '2' }]);
    // A restarted relay moves them; then Redis loses the jobs before any worker ran.
    expect(await relay()).toBe(2);
    await queue.obliterate({ force: true });
    expect(await queue.count()).toBe(0);
    // The stale sweep re-adds the pending deliveries (same job ids); the worker delivers them once each.
    expect(await requeueStale({ db, queue, logger }, 0)).toBeGreaterThanOrEqual(2);
    await requeueStale({ db, queue, logger }, 0); // re-adding existing job ids is a no-op
    startWorker();
    await waitFor('both voicemail events', async () => sids.every((s) => receiver.of(s).length === 1));
    await new Promise((r) => setTimeout(r, 300));
    expect(sids.map((s) => receiver.of(s).length)).toEqual([1, 1]);
    await db('webhook_endpoints').where({ id: ep.webhookEndpoint.id }).delete();
  });

  it('refuses at delivery time a host that now resolves to a private address (DNS rebinding): dead letter, no request', async () => {
    const repo = new WebhookEndpointsRepo(db);
    const ep = await repo.create({ url: 'https://rebind.test/hook', eventTypes: ['contact.opted_out'], secretEnc: deps.box!.seal('whsec_' + Buffer.from('rebinding-test-secret-32-bytes!!').toString('base64')) });
    const callSid = uniqueSid('CAoo');
    await emitWebhookEvent(db, { type: 'contact.opted_out', subject: { kind: 'call', id: callSid }, data: { callSid, number: '+14155550100', via: 'phrase', campaignId: null, contactId: null } });
    await relay();
    if (!worker) startWorker();
    const [d] = await waitFor('the dead letter', async () => {
      const ds = await new WebhookOutboxRepo(db).deliveries(ep.id, { limit: 5 });
      return ds.length && ds[0].status === 'dead' ? ds : null;
    });
    expect(d.attempts).toBe(1);
    expect(d.lastError).toMatch(/SSRF guard: host rebind\.test resolves to 10\.1\.2\.3, which is a private address/);
    await repo.delete(ep.id);
  });

  it('disables an endpoint failing continuously for N days, with the reason', async () => {
    const repo = new WebhookEndpointsRepo(db);
    const ep = await repo.create({ url: 'https://public.test/x', eventTypes: ['call.started'], secretEnc: deps.box!.seal('whsec_eA==') });
    const t0 = new Date('2026-12-01T00:00:00Z');
    const day = 86_400_000;
    expect(await repo.recordFailure(ep.id, t0, 3 * day, 'down')).toBeNull();
    expect(await repo.recordFailure(ep.id, new Date(t0.getTime() + 2 * day), 3 * day, 'down')).toBeNull();
    const off = await repo.recordFailure(ep.id, new Date(t0.getTime() + 3 * day), 3 * day, 'every delivery failed for 3 days');
    expect(off).toMatchObject({ enabled: false, disabledReason: 'every delivery failed for 3 days' });
    // Re-enabling clears the reason and the streak.
    expect(await repo.update(ep.id, { enabled: true })).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    await repo.delete(ep.id);
  });

  it('backs off exponentially with jitter, capped, for about a day with the defaults', () => {
    expect(webhookBackoffMs(1, 30_000, 4 * 3600_000, 0)).toBe(30_000);
    expect(webhookBackoffMs(3, 30_000, 4 * 3600_000, 0)).toBe(120_000);
    expect(webhookBackoffMs(3, 30_000, 4 * 3600_000, 0.999)).toBeCloseTo(120_000 * 0.8, -2);
    expect(webhookBackoffMs(20, 30_000, 4 * 3600_000, 0)).toBe(4 * 3600_000);
    const total = Array.from({ length: config.webhooks.maxAttempts - 1 }, (_, i) => webhookBackoffMs(i + 1, config.webhooks.retryBaseMs, config.webhooks.retryMaxDelayMs, 0.5)).reduce((a, b) => a + b, 0);
    expect(total / 3600_000).toBeGreaterThan(18);
    expect(total / 3600_000).toBeLessThan(30);
  });
});
