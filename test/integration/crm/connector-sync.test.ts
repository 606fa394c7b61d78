import type { Knex } from 'knex';
import pino from 'pino';
import { CallsRepo } from '../../../src/db/calls';
import { CrmConnectorsRepo } from '../../../src/db/crm-connectors';
import { HUBSPOT_OUTCOMES } from '../../../src/crm/connectors/hubspot';
import { connectorSyncJobId, createRedisConnection, enqueuePostCallJob } from '../../../src/jobs/queues';
import { SecretBox } from '../../../src/webhooks/secret-box';
import { ssrfPolicy } from '../../../src/webhooks/ssrf';
import { startWorkers, type RunningWorkers } from '../../../workers';
import { waitFor } from '../../helpers/async';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { startHubspotDouble, type HubspotDouble } from '../../doubles/hubspot-double';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-connector-sync-${process.pid}-${Date.now().toString(36)}`;
const AGENT_ID = 'test-connector-sync-agent';
const TOKEN = 'pat-na1-cccccccc-2222-3333-4444-555555555555';
const BASE_URL = 'https://voice.example.com';
const box = new SecretBox(Buffer.alloc(32, 7).toString('base64'));
const logger = pino({ level: 'silent' });

describe('connector-sync jobs (post-call chain → BullMQ → HubSpot double, Postgres state)', () => {
  let db: Knex;
  let hs: HubspotDouble;
  let redis: ReturnType<typeof createRedisConnection>;
  let workers: RunningWorkers;
  let calls: CallsRepo;
  let repo: CrmConnectorsRepo;
  let connectorId: string;

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    repo = new CrmConnectorsRepo(db);
    await db('agents').insert({ id: AGENT_ID, name: 'Connector sync test agent', system_prompt: 'test', first_message: 'Hello' }).onConflict('id').ignore();
    await db('crm_connectors').delete(); // this file owns the table in its database
    hs = await startHubspotDouble({ token: TOKEN });
    connectorId = (await repo.create({ kind: 'hubspot', name: 'HubSpot', settings: { basePath: hs.base }, credentialsEnc: box.seal(JSON.stringify({ accessToken: TOKEN })) })).id;
    redis = createRedisConnection(REDIS_URL, 'worker');
    workers = startWorkers({
      db,
      connection: redis,
      prefix: PREFIX,
      logger,
      crm: { maxAttempts: 4, retryBaseMs: 20, timeoutMs: 2_000 },
      connectors: { box, policy: ssrfPolicy(['127.0.0.1']), publicBaseUrl: BASE_URL, timeoutMs: 2_000 },
    });
  });
  afterAll(async () => {
    await workers?.worker.close();
    await workers?.queue.obliterate({ force: true });
    await workers?.close();
    redis?.disconnect();
    await hs?.close();
    await db?.destroy();
  });

  /** An ended inbound call from `from` with one caller turn and (optionally) analysis results. */
  const insertCall = async (from: string, analysis: { summary?: string; disposition?: string; fields?: Record<string, unknown> } = {}) => {
    const callSid = uniqueSid('CA');
    await calls.create({ callSid, agentId: AGENT_ID, direction: 'inbound', from, to: '+14155550199', status: 'in-progress' });
    await calls.addTurn(callSid, { role: 'caller', text: 'Hi, what time do you open?', language: 'en', startMs: 0, endMs: 1_500 });
    await calls.finish(callSid, { language: 'en', intent: null });
    await db('calls').where({ call_sid: callSid }).update({ summary: analysis.summary ?? null, disposition: analysis.disposition ?? null, extracted_fields: analysis.fields ? JSON.stringify(analysis.fields) : null });
    return callSid;
  };
  /**
   * Runs the chain from `crm-sync` (which writes `call.completed` and fans out the connector jobs): the analysis step
   * before it would recompute what insertCall seeds as the stored analysis (tested in post-call-analysis.test.ts).
   */
  const enqueuePostCall = (_queue: unknown, _calls: unknown, callSid: string) => enqueuePostCallJob(workers.queue, 'crm-sync', { callSid });
  const delivered = (callSid: string) =>
    waitFor(`connector delivery of ${callSid}`, async () => {
      const d = await repo.getDelivery(callSid, connectorId);
      return d && d.status !== 'pending' ? d : null;
    });
  const engagementsFor = (from: string) => [...hs.calls.values()].filter((c) => c.properties.hs_call_from_number === from);

  it('logs the engagement once, even when the job runs a second time', async () => {
    const from = '+14155550301';
    const callSid = await insertCall(from, { summary: 'Asked about opening hours; answered.', disposition: 'resolved', fields: { firstName: 'Grace' } });
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    expect(engagementsFor(from)).toHaveLength(1);
    const [e] = engagementsFor(from);
    expect(d.activityId).toBe(e.id);
    expect(e.properties).toMatchObject({
      hs_call_direction: 'INBOUND',
      hs_call_status: 'COMPLETED',
      hs_call_disposition: HUBSPOT_OUTCOMES.connected,
      hs_call_body: `Asked about opening hours; answered.\n\nCall details: ${BASE_URL}/calls/${callSid}`,
    });
    expect(hs.contacts.get(d.contactId!)!.properties).toMatchObject({ phone: from, firstname: 'Grace' });

    // The same job again (the completed one removed so BullMQ accepts the id): the delivery row stops it.
    const jobId = connectorSyncJobId(callSid, connectorId);
    await (await workers.queue.getJob(jobId))!.remove();
    await workers.queue.add('connector-sync', { callSid, connectorId } as any, { jobId });
    await waitFor('second run', async () => (await workers.queue.getJob(jobId))?.finishedOn);
    expect(await (await workers.queue.getJob(jobId))!.returnvalue).toEqual({ status: 'delivered', activityId: e.id });
    expect(engagementsFor(from)).toHaveLength(1);
    expect((await repo.getDelivery(callSid, connectorId))!.attempts).toBe(1);

    const api = await repo.deliveriesOf(callSid);
    expect(api).toEqual([expect.objectContaining({ connectorName: 'HubSpot', kind: 'hubspot', status: 'delivered', activityId: e.id })]);
  });

  it('retries a 5xx, then logs once; without analysis uses the fallback disposition and an empty summary', async () => {
    const from = '+14155550302';
    const callSid = await insertCall(from);
    await db('calls').where({ call_sid: callSid }).update({ status: 'no-answer' });
    hs.fail(503, { path: '/crm/v3/objects/calls', method: 'POST' });
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
    expect(engagementsFor(from)).toHaveLength(1);
    expect(engagementsFor(from)[0].properties).toMatchObject({ hs_call_status: 'NO_ANSWER', hs_call_disposition: HUBSPOT_OUTCOMES.noAnswer, hs_call_duration: '0', hs_call_body: `Call details: ${BASE_URL}/calls/${callSid}` });
  });

  it("429: the retry waits for HubSpot's Retry-After (BullMQ custom backoff), then logs once", async () => {
    const from = '+14155550306';
    const callSid = await insertCall(from, { disposition: 'resolved' });
    hs.fail(429, { path: '/crm/v3/objects/calls', method: 'POST', retryAfterS: 1 });
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2 });
    const posts = hs.requests.filter((q) => q.path === '/crm/v3/objects/calls' && q.body?.properties?.hs_call_from_number === from);
    expect(posts.map((q) => q.status)).toEqual([429, 201]);
    // retryBaseMs is 20 ms here: only the Retry-After (1 s) explains the gap between the two attempts.
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(1_000);
  });

  it('opt-out: marks the contact do-not-call; a failed PATCH is retried without logging the call again', async () => {
    const from = '+14155550303';
    const callSid = await insertCall(from, { summary: 'Asked not to be called again.', disposition: 'opted_out' });
    hs.fail(503, { path: '/crm/v3/objects/contacts/', method: 'PATCH' });
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(engagementsFor(from)).toHaveLength(1);
    expect(hs.contacts.get(d.contactId!)!.properties.do_not_call).toBe('true');
  });

  it('a voicemail call (not analysed) where the callee opted out: logged as voicemail, as the analysis would, and marked do-not-call', async () => {
    const from = '+14155550307';
    const callSid = await insertCall(from);
    await db('call_events').insert([
      { call_sid: callSid, type: 'voicemail', payload: { played: true } },
      { call_sid: callSid, type: 'opt_out', payload: {} },
    ]);
    await enqueuePostCall(workers.queue, calls, callSid);
    const d = await delivered(callSid);
    expect(d).toMatchObject({ status: 'delivered' });
    expect(engagementsFor(from)).toHaveLength(1);
    expect(engagementsFor(from)[0].properties.hs_call_disposition).toBe(HUBSPOT_OUTCOMES.leftVoicemail);
    expect(hs.contacts.get(d.contactId!)!.properties.do_not_call).toBe('true');
  });

  it('a rejected token fails the delivery at once (no retries) with the admin message', async () => {
    const other = await repo.create({ kind: 'hubspot', name: 'Bad token', settings: { basePath: hs.base }, credentialsEnc: box.seal(JSON.stringify({ accessToken: 'pat-na1-dddddddd-2222-3333-4444-555555555555' })) });
    try {
      const callSid = await insertCall('+14155550304', { disposition: 'resolved' });
      await enqueuePostCall(workers.queue, calls, callSid);
      const bad = await waitFor('failed delivery', async () => {
        const r = await repo.getDelivery(callSid, other.id);
        return r && r.status !== 'pending' ? r : null;
      });
      expect(bad).toMatchObject({ status: 'failed', attempts: 1, activityId: null });
      expect(bad.lastError).toMatch(/^HubSpot rejected the private app token \(401\)/);
      expect((await delivered(callSid)).status).toBe('delivered'); // the good connector still got it
    } finally {
      await repo.delete(other.id);
    }
  });

  it('a Salesforce connector whose stored instance URL is a private address fails at once, sending nothing', async () => {
    const sf = await repo.create({ kind: 'salesforce', name: 'SF private', settings: {}, credentialsEnc: box.seal(JSON.stringify({ instanceUrl: 'http://10.1.2.3', accessToken: '00Dxx!token' })) });
    try {
      const callSid = await insertCall('+14155550308', { disposition: 'resolved' });
      await enqueuePostCall(workers.queue, calls, callSid);
      const bad = await waitFor('failed delivery', async () => {
        const r = await repo.getDelivery(callSid, sf.id);
        return r && r.status !== 'pending' ? r : null;
      });
      expect(bad).toMatchObject({ status: 'failed', attempts: 1, activityId: null });
      expect(bad.lastError).toMatch(/^credentials\.instanceUrl refused: host 10\.1\.2\.3 is a private address/);
      expect(bad.lastError).not.toContain('00Dxx!token');
    } finally {
      await repo.delete(sf.id);
    }
  });

  it('a disabled connector gets no delivery', async () => {
    await repo.update(connectorId, { enabled: false });
    try {
      const callSid = await insertCall('+14155550305', { disposition: 'resolved' });
      await enqueuePostCall(workers.queue, calls, callSid);
      await waitFor('crm-sync done', async () => (await workers.queue.getJob(`${callSid}-crm-sync`))?.finishedOn);
      expect(await workers.queue.getJob(connectorSyncJobId(callSid, connectorId))).toBeUndefined();
      expect(await repo.getDelivery(callSid, connectorId)).toBeNull();
    } finally {
      await repo.update(connectorId, { enabled: true });
    }
  });
});
