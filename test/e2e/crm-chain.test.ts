import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Knex } from 'knex';
import { Webhook } from 'standardwebhooks';
import { loadConfig, type Config } from '../../src/config';
import { migrateAndSeed } from '../../src/db/setup';
import { AgentsRepo } from '../../src/db/agents';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { hubspotOutcomeFor } from '../../src/crm/connectors/hubspot';
import type { Disposition } from '../../src/domain/disposition';
import { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { serveTwilioRestDouble } from '../doubles/twilio-rest-http';
import { TwilioCallDriver } from '../doubles/twilio-call-driver';
import { startHubspotDouble, type HubspotDouble } from '../doubles/hubspot-double';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { quiesceCampaigns } from '../helpers/campaign-fixtures';
import { spawnEntry, startServerEntry, type EntryProcess } from '../helpers/child-process';

/**
 * Issue 13's chained e2e, across real processes: a server (`src/main.ts`) and a worker (`workers/main.ts`: dispatcher,
 * post-call chain, webhook relay and delivery, CRM connectors) sharing PostgreSQL and Redis; Twilio is the REST double
 * over HTTP plus the call driver (a simulated callee speaking a LibriVox recording, heard by the offline STT); HubSpot is
 * its REST double behind the real `@hubspot/api-client`; the generic endpoint is a local receiver that answers 503 to
 * its first two deliveries.
 *
 * 1. A HubSpot workflow webhook, signed with X-HubSpot-Signature-v3, enrolls a contact into a running campaign (its
 *    first contact's call is live meanwhile; both callees are the same simulated person).
 * 2. The dispatcher dials it; the callee answers and speaks; the call ends.
 * 3. The HubSpot double receives the contact search/create and a Call engagement whose `hs_call_disposition` is the
 *    outcome GUID of the call's stored disposition, associated with the contact.
 * 4. The endpoint receives `call.started` … `call.completed` for the call, each signature valid with its secret, in
 *    strictly increasing per-call sequence order, although it answered 503 to the first two deliveries about the call.
 */
const API_KEY = 'e2e-crm-chain-api-key-0123456789';
const HUBSPOT_TOKEN = 'pat-na1-e2e-crm-chain-token';
const HUBSPOT_APP_SECRET = 'hubspot-app-client-secret-e2e';

let db: Knex;
let config: Readonly<Config>;
const rest = new TwilioRestDouble();
let twilioHttp: Awaited<ReturnType<typeof serveTwilioRestDouble>>;
let hs: HubspotDouble;
let server: EntryProcess & { origin: string };
let worker: EntryProcess;

/**
 * The generic endpoint: keeps every request (raw body + headers, `subject` = the event's subject id read without
 * trusting it); the first {@link FAIL_FIRST} requests about each subject answer 503 (the endpoint is down for them).
 */
interface Received {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  subject: string | null;
}
const received: Received[] = [];
const FAIL_FIRST = 2;
let receiver: http.Server;
let receiverUrl: string;

beforeAll(async () => {
  db = await setupTestDb();
  await migrateAndSeed(db);
  await quiesceCampaigns(db);
  twilioHttp = await serveTwilioRestDouble(rest);
  hs = await startHubspotDouble({ token: HUBSPOT_TOKEN });
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let subject: string | null = null;
      try {
        subject = String(JSON.parse(body).subject?.id ?? '') || null;
      } catch {
        subject = null;
      }
      const status = received.filter((r) => r.subject === subject).length < FAIL_FIRST ? 503 : 204;
      received.push({ status, headers: req.headers, body, subject });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  const env = {
    NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'warn', API_KEY, QUEUE_PREFIX: `e2e-crm-${process.pid}-${Date.now()}`,
    TWILIO_API_BASE_URL: twilioHttp.url, STT_PROVIDER: 'local', STT_FALLBACK: 'none', LLM_PROVIDER: 'local', TTS_PROVIDER: 'local',
    EMBEDDINGS_PROVIDER: 'local', VECTOR_PROVIDER: 'postgres', SILENCE_REPROMPT_MS: '0', OUTBOUND_GREETING_WAIT_MS: '60000', LOCAL_STT_CONCURRENCY: '1',
    STT_TIMEOUT_MS: '30000', TTS_FIRST_BYTE_TIMEOUT_MS: '15000', LLM_FIRST_TOKEN_TIMEOUT_MS: '15000', BREAKER_FAILURES: '100',
    // The receiver and the HubSpot double listen on 127.0.0.1; deliveries retry after ~0.5 s, then ~1 s (not minutes).
    WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1', WEBHOOK_RELAY_INTERVAL_MS: '200', WEBHOOK_RETRY_BASE_MS: '500', WEBHOOK_RETRY_MAX_DELAY_MS: '2000',
  };
  config = loadConfig(env);
  server = await startServerEntry({ ...env, DISPATCHER_ENABLED: 'false' });
  worker = spawnEntry('workers/main.ts', { ...env, STT_PROVIDER: 'fake', DISPATCHER_ENABLED: 'true', DIAL_LEASE_MS: '10000', DISPATCH_INTERVAL_MS: '200' });
}, 150_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const p of [server, worker]) if (p) process.stderr.write(`--- ${p.output()}\n`);
  await db('campaigns').where('id', 'like', 'cmp_%').where({ state: 'running' }).update({ state: 'cancelled' });
  await Promise.all([worker, server].filter(Boolean).map((p) => p.stop()));
  await twilioHttp?.close();
  await hs?.close();
  await new Promise((r) => receiver?.close(r));
  await db.destroy();
}, 60_000);

const api = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(`${server.origin}${p}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
};

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('HubSpot trigger → campaign call → HubSpot engagement with the disposition, and the endpoint gets call.started … call.completed in order, signed, after failing twice', async () => {
  // An agent, a running campaign open around the clock, a HubSpot connector, a generic endpoint, a HubSpot trigger.
  const agentId = `crm-e2e-${process.pid}`;
  await new AgentsRepo(db).upsert({
    id: agentId, name: 'Renewals', systemPrompt: 'You call {{first_name}} about the renewal.', firstMessage: 'Hi {{first_name}}, Acme here about your renewal.',
    defaultLanguage: 'en', languages: ['en'], voices: { en: 'en-us' }, intents: [], handoffNumber: null, isDefault: false,
  });
  const campaign = await api('/api/campaigns', {
    method: 'POST',
    body: JSON.stringify({ name: 'crm e2e', agentId, callerIds: ['+14155550100'], defaultRegion: 'US', window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' }, maxConcurrent: 2, cps: 1, retry: { maxAttempts: 1 } }),
  });
  expect(campaign.status).toBe(201);
  const campaignId: string = campaign.body.id;
  // A campaign starts with contacts: one is already on the list (its call is live when HubSpot's webhook arrives).
  const first = `+1415${2_000_000 + (Date.now() % 1_000_000)}`;
  expect((await api(`/api/campaigns/${campaignId}/contacts`, { method: 'POST', body: JSON.stringify({ contacts: [{ phone: first, variables: { first_name: 'Bo' } }] }) })).body).toMatchObject({ accepted: 1 });

  const integration = await api('/api/integrations', { method: 'POST', body: JSON.stringify({ kind: 'hubspot', name: 'HubSpot e2e', settings: { basePath: hs.base }, credentials: { accessToken: HUBSPOT_TOKEN } }) });
  expect(integration.status).toBe(201);
  const endpoint = await api('/api/webhook-endpoints', { method: 'POST', body: JSON.stringify({ url: receiverUrl, eventTypes: ['call.started', 'call.ended', 'call.completed'] }) });
  expect(endpoint.status).toBe(201);
  const endpointSecret: string = endpoint.body.secret;
  const trigger = await api('/api/inbound-triggers', {
    method: 'POST',
    body: JSON.stringify({ name: 'HubSpot new lead', kind: 'hubspot', secret: HUBSPOT_APP_SECRET, action: { type: 'enroll', campaignId }, mapping: { phone: 'properties.phone', name: 'properties.firstname', variables: { first_name: 'properties.firstname' } } }),
  });
  expect(trigger.status).toBe(201);

  // The callee: a person who answers and reads a sentence (LibriVox), then hangs up once the agent has answered.
  const speech = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')).subarray(0, 8 * 2_500);
  const errors: string[] = [];
  const driver = new TwilioCallDriver({
    rest,
    servers: [{ origin: server.origin }],
    publicBaseUrl: config.publicBaseUrl,
    authToken: config.twilio.authToken,
    accountSid: config.twilio.accountSid,
    script: () => ({ kind: 'human', turns: [{ audio: speech }], patienceMs: 1_000 }),
    onError: (m) => errors.push(m),
    replyTimeoutMs: 30_000,
  });

  expect((await api(`/api/campaigns/${campaignId}/start`, { method: 'POST' })).status).toBe(200);
  await until('the first contact to be dialed', async () => rest.created.some((c) => c.to === first), 60_000);
  expect((await db('campaigns').where({ id: campaignId }).first('state')).state).toBe('running');

  // 1. HubSpot's workflow webhook, signed as HubSpot signs it (v3: method + URI + body + timestamp, HMAC-SHA256).
  const phone = `+1415${3_000_000 + (Date.now() % 1_000_000)}`;
  const hookPath = trigger.body.inboundTrigger.receiverPath as string;
  const hookBody = JSON.stringify({ objectId: 901, properties: { phone, firstname: 'Ada' } });
  const ts = String(Date.now());
  const signature = createHmac('sha256', HUBSPOT_APP_SECRET).update(`POST${config.publicBaseUrl}${hookPath}${hookBody}${ts}`).digest('base64');
  const hook = await fetch(`${server.origin}${hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': ts }, body: hookBody });
  expect(hook.status).toBe(200);
  const contact = await db('campaign_contacts').where({ campaign_id: campaignId, phone }).first();
  expect(contact).toMatchObject({ variables: { first_name: 'Ada' } });

  // 2. Dialed by the worker's dispatcher, answered, spoken to, ended.
  const attempt = await until('the call to end', () => db('call_attempts').where({ campaign_id: campaignId, contact_id: contact.id }).whereNotNull('ended_at').first(), 120_000);
  await driver.idle();
  expect(errors).toEqual([]);
  expect(rest.created.map((c) => c.to)).toContain(phone);
  const callSid: string = attempt.call_sid;
  const callerTurns = await db('call_turns').where({ call_sid: callSid, role: 'caller' });
  expect(callerTurns.length).toBeGreaterThanOrEqual(1);

  // 3. HubSpot: the engagement, with the outcome GUID of the disposition the analysis stored on the call.
  const engagement = await until('the HubSpot call engagement', async () => hs.requests.find((r) => r.method === 'POST' && r.path === '/crm/v3/objects/calls' && r.status === 201 && r.body?.properties?.hs_call_to_number === phone), 90_000);
  const call = await db('calls').where({ call_sid: callSid }).first('disposition', 'direction');
  expect(call.disposition).toBeTruthy();
  const outcome = hubspotOutcomeFor(call.disposition as Disposition);
  expect(engagement.headers.authorization).toBe(`Bearer ${HUBSPOT_TOKEN}`);
  expect(engagement.body.properties).toMatchObject({ hs_call_direction: 'OUTBOUND', hs_call_to_number: phone, ...(outcome ? { hs_call_disposition: outcome } : {}) });
  expect(Number(engagement.body.properties.hs_call_duration)).toBeGreaterThan(0);
  expect(hs.requests.some((r) => r.path === '/crm/v3/objects/contacts/search' && JSON.stringify(r.body).includes(phone))).toBe(true);
  // Associated (type 194, call → contact) with the HubSpot contact that has the callee's number.
  const hsContact = [...hs.contacts.values()].find((c) => c.properties.phone === phone);
  expect(hsContact).toBeDefined();
  expect(engagement.body.associations).toEqual([{ to: { id: hsContact!.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }] }]);

  // 4. The endpoint: every event of the call, signed, in sequence order, delivered after two 503s.
  const wh = new Webhook(endpointSecret);
  const events = () =>
    received
      .filter((r) => r.status === 204)
      .map((r) => ({ ...(wh.verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as any), id: r.headers['webhook-id'] }))
      .filter((e) => e.subject?.id === callSid);
  await until('call.completed at the endpoint', async () => events().some((e) => e.type === 'call.completed'), 90_000);
  const mine = events();
  const ours = received.filter((r) => r.subject === callSid);
  expect(ours.slice(0, FAIL_FIRST).map((r) => r.status)).toEqual([503, 503]);
  // A failed delivery is retried with the same webhook-id; each id is delivered successfully exactly once.
  const failedIds = new Set(ours.slice(0, FAIL_FIRST).map((r) => r.headers['webhook-id']));
  for (const id of failedIds) expect(ours.filter((r) => r.headers['webhook-id'] === id && r.status === 204)).toHaveLength(1);
  expect(new Set(mine.map((e) => e.id)).size).toBe(mine.length);
  expect(mine.map((e) => e.id)).toEqual(expect.arrayContaining([...failedIds]));
  const types = mine.map((e) => e.type);
  expect(types[0]).toBe('call.started');
  expect(types).toContain('call.ended');
  expect(types.at(-1)).toBe('call.completed');
  const seqs = mine.map((e) => e.sequence);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  const completed = mine.at(-1);
  expect(completed.data).toMatchObject({ callSid, disposition: call.disposition });
}, 300_000);
