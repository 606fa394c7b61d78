import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Knex } from 'knex';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { setupTestDb } from '../../helpers/db';
import { createTestAgent, createTestCampaign, randomUsPhone } from '../../helpers/campaigns';
import { createApp } from '../../../src/http/app';
import { createInboundTriggersRouter, valueAt } from '../../../src/http/inbound-triggers';
import { InboundTriggersRepo, type TriggerAction, type TriggerMapping } from '../../../src/db/inbound-triggers';
import { SecretBox, newWebhookSecret } from '../../../src/webhooks/secret-box';
import { verifyHubSpotV3, verifyStandardWebhook } from '../../../src/webhooks/inbound-signatures';
import { DncRepo } from '../../../src/db/dnc';
import type { DialerPort } from '../../../src/campaigns/dialer-port';

const PUBLIC = 'https://calls.example.com';
const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const HUBSPOT_SECRET = 'hubspot-client-secret-0f1e2d3c';

/** A DialerPort double like the single-call API test's: records dials, answers a callSid per attempt. */
class FakeDialer implements DialerPort {
  dials: string[] = [];
  async dial(attemptId: string): Promise<{ callSid: string }> {
    this.dials.push(attemptId);
    return { callSid: `CA${attemptId.replace(/-/g, '')}` };
  }
}

/** HubSpot v3 signature computed independently of the code under test (developers.hubspot.com). */
const hubspotSign = (secret: string, method: string, uri: string, body: string, ts: string) =>
  createHmac('sha256', secret).update(`${method}${uri}${body}${ts}`).digest('base64');

describe('inbound triggers (HubSpot v3 and Standard Webhooks receivers)', () => {
  let db: Knex;
  let server: Server;
  let base: string;
  let clock = NOW;
  const box = new SecretBox(randomBytes(32).toString('base64'));
  const dialer = new FakeDialer();
  let agentId: string;
  let agentFrom: string;

  const addTrigger = async (kind: 'hubspot' | 'standard', action: TriggerAction, mapping: TriggerMapping, secret: string) =>
    new InboundTriggersRepo(db).create({ id: randomUUID(), name: `t-${kind}`, kind, secretSealed: box.seal(secret), action, mapping, enabled: true });

  const postHubSpot = async (triggerId: string, payload: unknown, o: { secret?: string; ts?: number; tamper?: boolean } = {}) => {
    const path = `/integrations/hubspot/webhook?trigger=${triggerId}`;
    const body = JSON.stringify(payload);
    const ts = String(o.ts ?? clock);
    const sig = hubspotSign(o.secret ?? HUBSPOT_SECRET, 'POST', `${PUBLIC}${path}`, body, ts);
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts },
      body: o.tamper ? body.replace('}', ',"x":1}') : body,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  const postStandard = async (triggerId: string, secret: string, payload: unknown, id = `msg_${randomUUID()}`) => {
    const body = JSON.stringify(payload);
    const at = new Date(clock);
    const sig = new Webhook(secret).sign(id, at, body);
    const res = await fetch(`${base}/integrations/webhooks/${triggerId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(clock / 1000)), 'webhook-signature': sig },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    agentFrom = randomUsPhone();
    await db('phone_numbers').insert({ e164: agentFrom, agent_id: agentId });
    const app = createApp({
      logger: pino({ level: 'silent' }),
      routers: [createInboundTriggersRouter({ db, box, publicBaseUrl: PUBLIC, dialer, now: () => clock })],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await db('phone_numbers').where({ e164: agentFrom }).delete();
    await db.destroy();
  });
  beforeEach(() => {
    clock = NOW;
  });

  describe('signature checks (pure)', () => {
    const raw = Buffer.from('{"a":1}');
    const uri = `${PUBLIC}/integrations/hubspot/webhook?trigger=x`;
    const ts = String(NOW);
    const sig = hubspotSign(HUBSPOT_SECRET, 'POST', uri, '{"a":1}', ts);
    it('HubSpot v3: valid, tampered body, other URI, old timestamp, wrong secret', () => {
      const ok = { secret: HUBSPOT_SECRET, method: 'POST', uri, rawBody: raw, signature: sig, timestamp: ts };
      expect(verifyHubSpotV3(ok, NOW + 1000)).toBeNull();
      expect(verifyHubSpotV3({ ...ok, rawBody: Buffer.from('{"a":2}') }, NOW)).toBe('signature does not match');
      expect(verifyHubSpotV3({ ...ok, uri: `${uri}y` }, NOW)).toBe('signature does not match');
      expect(verifyHubSpotV3(ok, NOW + 5 * 60_000 + 1)).toBe('timestamp outside the 5 minute tolerance');
      expect(verifyHubSpotV3({ ...ok, secret: 'other' }, NOW)).toBe('signature does not match');
      expect(verifyHubSpotV3({ ...ok, signature: undefined }, NOW)).toMatch(/missing/);
    });
    it('Standard Webhooks: valid (among several signatures), tampered, old, wrong secret', () => {
      const secret = newWebhookSecret();
      const s = new Webhook(secret).sign('msg_1', new Date(NOW), raw);
      const ok = { secret, rawBody: raw, id: 'msg_1', timestamp: String(NOW / 1000), signature: `v1,AAAA ${s}` };
      expect(verifyStandardWebhook(ok, NOW)).toBeNull();
      expect(verifyStandardWebhook({ ...ok, rawBody: Buffer.from('{"a":2}') }, NOW)).toBe('signature does not match');
      expect(verifyStandardWebhook({ ...ok, id: 'msg_2' }, NOW)).toBe('signature does not match');
      expect(verifyStandardWebhook(ok, NOW + 5 * 60_000 + 1000)).toBe('timestamp outside the 5 minute tolerance');
      expect(verifyStandardWebhook({ ...ok, secret: newWebhookSecret() }, NOW)).toBe('signature does not match');
    });
    it('valueAt follows dotted paths and HubSpot { value } objects', () => {
      expect(valueAt({ properties: { phone: { value: '+1415' } } }, 'properties.phone')).toBe('+1415');
      expect(valueAt({ items: [{ n: 5 }] }, 'items.0.n')).toBe('5');
      expect(valueAt({ a: {} }, 'a.b.c')).toBeUndefined();
    });
  });

  it('a HubSpot-signed request enrolls the contact into a running campaign, with mapped variables; a repeat is deduped', async () => {
    const c = await createTestCampaign(db, agentId);
    await db('campaigns').where({ id: c.id }).update({ state: 'running' });
    const t = await addTrigger('hubspot', { type: 'enroll', campaignId: c.id }, { phone: 'properties.phone', name: 'properties.firstname', variables: { first_name: 'properties.firstname', plan: 'properties.plan' } }, HUBSPOT_SECRET);
    const phone = randomUsPhone();
    const payload = { objectId: 123, properties: { phone: { value: phone }, firstname: { value: 'Ada' }, plan: 'gold' } };

    const r = await postHubSpot(t.id, payload);
    expect(r).toEqual({ status: 200, body: { ok: true, action: 'enroll', campaignId: c.id, phone, suppressed: false } });
    const row = await db('campaign_contacts').where({ campaign_id: c.id, phone }).first();
    expect(row).toMatchObject({ name: 'Ada', state: 'pending' });
    expect(row.variables).toEqual({ first_name: 'Ada', plan: 'gold' });

    const again = await postHubSpot(t.id, payload);
    expect(again).toEqual({ status: 200, body: { ok: true, action: 'enroll', campaignId: c.id, phone, suppressed: false, duplicate: true } });
    expect(await db('campaign_contacts').where({ campaign_id: c.id }).count('* as n').first()).toEqual({ n: '1' });
    // After 24 h the same body is a new delivery.
    clock = NOW + 24 * 3600_000 + 1000;
    expect((await postHubSpot(t.id, payload)).body.duplicate).toBeUndefined();
  });

  it('HubSpot: 401 on tampered body, old timestamp and wrong secret; nothing enrolled', async () => {
    const c = await createTestCampaign(db, agentId);
    await db('campaigns').where({ id: c.id }).update({ state: 'running' });
    const t = await addTrigger('hubspot', { type: 'enroll', campaignId: c.id }, { phone: 'phone' }, HUBSPOT_SECRET);
    const payload = { phone: randomUsPhone() };
    expect(await postHubSpot(t.id, payload, { tamper: true })).toEqual({ status: 401, body: { error: 'signature does not match' } });
    expect(await postHubSpot(t.id, payload, { ts: NOW - 6 * 60_000 })).toEqual({ status: 401, body: { error: 'timestamp outside the 5 minute tolerance' } });
    expect((await postHubSpot(t.id, payload, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await postHubSpot(randomUUID(), payload)).status).toBe(404);
    expect(await db('campaign_contacts').where({ campaign_id: c.id }).count('* as n').first()).toEqual({ n: '0' });
  });

  it('422 when the mapped phone is missing or invalid, 409 when the campaign does not accept contacts, DNC stored suppressed', async () => {
    const c = await createTestCampaign(db, agentId);
    await db('campaigns').where({ id: c.id }).update({ state: 'running' });
    const t = await addTrigger('hubspot', { type: 'enroll', campaignId: c.id }, { phone: 'properties.phone' }, HUBSPOT_SECRET);
    expect(await postHubSpot(t.id, { properties: {} })).toEqual({ status: 422, body: { error: 'no phone number at properties.phone' } });
    expect((await postHubSpot(t.id, { properties: { phone: '12' } })).status).toBe(422);
    const listed = randomUsPhone();
    await new DncRepo(db).add({ number: listed, source: 'api', provenance: {} });
    const dnc = await postHubSpot(t.id, { properties: { phone: listed } });
    expect(dnc.body.suppressed).toBe(true);
    expect((await db('campaign_contacts').where({ campaign_id: c.id, phone: listed }).first()).state).toBe('suppressed');
    await db('campaigns').where({ id: c.id }).update({ state: 'completed' });
    const closed = await postHubSpot(t.id, { properties: { phone: randomUsPhone() } });
    expect(closed.status).toBe(409);
    expect(closed.body.error).toMatch(/completed and does not accept contacts/);
  });

  it('the generic Standard Webhooks receiver places a call (once per webhook-id) and rejects bad signatures', async () => {
    const secret = newWebhookSecret();
    const t = await addTrigger('standard', { type: 'call', agentId }, { phone: 'customer.phone', variables: { first_name: 'customer.first' } }, secret);
    const to = randomUsPhone();
    const id = `msg_${randomUUID()}`;
    const r = await postStandard(t.id, secret, { customer: { phone: to, first: 'Grace' } }, id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, action: 'call', callSid: expect.stringMatching(/^CA/) });
    const attempt = await db('call_attempts').where({ id: r.body.attemptId }).first();
    expect(attempt).toMatchObject({ to_number: to, from_number: agentFrom, agent_id: agentId, idempotency_key: `trigger:${t.id}:id:${id}` });
    expect(attempt.variables).toEqual({ first_name: 'Grace' });
    expect(dialer.dials).toEqual([r.body.attemptId]);

    const again = await postStandard(t.id, secret, { customer: { phone: to, first: 'Grace' } }, id);
    expect(again.body).toMatchObject({ duplicate: true, attemptId: r.body.attemptId });
    expect(dialer.dials).toHaveLength(1);

    expect((await postStandard(t.id, newWebhookSecret(), { customer: { phone: to } })).status).toBe(401);
    const hub = await addTrigger('hubspot', { type: 'call', agentId }, { phone: 'p' }, HUBSPOT_SECRET);
    expect((await postStandard(hub.id, secret, { p: to })).status).toBe(404);
    expect(dialer.dials).toHaveLength(1);
  });

  it('a call the dial path refuses is a 409 with the reason (not a 200 ok), and a Twilio failure keeps its 502 and reason (idempotent on retry)', async () => {
    const secret = newWebhookSecret();
    const numberless = await createTestAgent(db); // no phone number to call from
    const t = await addTrigger('standard', { type: 'call', agentId: numberless }, { phone: 'phone' }, secret);
    const r = await postStandard(t.id, secret, { phone: randomUsPhone() });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/has no phone number/);
    expect(r.body.ok).toBeUndefined();

    const refusing = await addTrigger('standard', { type: 'call', agentId }, { phone: 'phone' }, secret);
    const dials = dialer.dials.length;
    const original = dialer.dial.bind(dialer);
    dialer.dial = async () => {
      throw Object.assign(new Error('Twilio refused: 21215 geo permissions'), { status: 400, code: 21215 });
    };
    const id = `msg_${randomUUID()}`;
    const to = randomUsPhone();
    let refused;
    try {
      refused = await postStandard(refusing.id, secret, { phone: to }, id);
    } finally {
      dialer.dial = original;
    }
    expect(refused).toEqual({ status: 502, body: { error: 'the call could not be placed: Twilio refused: 21215 geo permissions' } });
    // The trigger's dedupe claim was released (not a `duplicate`); the attempt's Idempotency-Key answers the retry with
    // the same stored failure, without dialing twice.
    const retry = await postStandard(refusing.id, secret, { phone: to }, id);
    expect(retry).toEqual(refused);
    expect(dialer.dials.length).toBe(dials);
  });
});
