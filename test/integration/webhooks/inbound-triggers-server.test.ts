import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Knex } from 'knex';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../../src/config';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { migrateAndSeed } from '../../../src/db/setup';
import { buildAppContext, type AppContext } from '../../../src/context';
import { startServer, type RunningServer } from '../../../src/server';
import { closeInProcessServer } from '../../helpers/in-process-server';
import { createTestAgent, createTestCampaign, randomUsPhone } from '../../helpers/campaigns';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { InboundTriggersRepo } from '../../../src/db/inbound-triggers';
import { webhookApiDeps } from '../../../src/webhooks/config';
import { newWebhookSecret } from '../../../src/webhooks/secret-box';

/**
 * The receivers as mounted by startServer: the raw body reaches the signature check (no JSON parser before them),
 * the HubSpot URI is PUBLIC_BASE_URL + originalUrl, and an enroll lands in the campaign.
 */
describe('inbound trigger receivers on the real server', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: ReturnType<typeof loadConfig>;
  let base: string;

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
    config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'https://calls.example.com' });
    const providers = { stt: new FakeStt({ respond: () => 'hello' }), llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `inbound-${process.pid}`, providers });
    server = await startServer(config, ctx);
    base = `http://127.0.0.1:${server.port}`;
  }, 60_000);
  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
  });

  it('HubSpot-signed and Standard-Webhooks-signed requests enroll contacts; a bad signature is 401', async () => {
    const box = webhookApiDeps(config).box!;
    const agentId = await createTestAgent(db);
    const c = await createTestCampaign(db, agentId);
    await db('campaigns').where({ id: c.id }).update({ state: 'running' });
    const repo = new InboundTriggersRepo(db);
    const hub = await repo.create({ id: randomUUID(), name: 'hs', kind: 'hubspot', secretSealed: box.seal('hs-secret-123'), action: { type: 'enroll', campaignId: c.id }, mapping: { phone: 'properties.phone', variables: { first_name: 'properties.firstname' } }, enabled: true });
    const whsec = newWebhookSecret();
    const std = await repo.create({ id: randomUUID(), name: 'std', kind: 'standard', secretSealed: box.seal(whsec), action: { type: 'enroll', campaignId: c.id }, mapping: { phone: 'phone' }, enabled: true });

    const p1 = randomUsPhone();
    const path = `/integrations/hubspot/webhook?trigger=${hub.id}`;
    const body = JSON.stringify({ properties: { phone: p1, firstname: 'Ada' } });
    const ts = String(Date.now());
    const sig = createHmac('sha256', 'hs-secret-123').update(`POST${config.publicBaseUrl}${path}${body}${ts}`).digest('base64');
    const r1 = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }, body });
    expect(r1.status).toBe(200);
    expect((await db('campaign_contacts').where({ campaign_id: c.id, phone: p1 }).first()).variables).toEqual({ first_name: 'Ada' });

    const p2 = randomUsPhone();
    const body2 = JSON.stringify({ phone: p2 });
    const id = `msg_${randomUUID()}`;
    const now = new Date();
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(whsec).sign(id, now, body2) };
    expect((await fetch(`${base}/integrations/webhooks/${std.id}`, { method: 'POST', headers, body: body2 })).status).toBe(200);
    expect(await db('campaign_contacts').where({ campaign_id: c.id, phone: p2 }).first()).toBeTruthy();

    const bad = await fetch(`${base}/integrations/webhooks/${std.id}`, { method: 'POST', headers: { ...headers, 'webhook-id': `msg_${randomUUID()}` }, body: body2 });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'signature does not match' });
  }, 60_000);
});
