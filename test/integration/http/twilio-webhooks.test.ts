import { listen } from '../../helpers/http';
import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { createApp } from '../../../src/http/app';
import { createTwilioRouter } from '../../../src/http/routes/twilio';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { DEMO_AGENT } from '../../../src/db/seed';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';

const TOKEN = 'webhook-test-token';
const PUBLIC = 'https://voice.example.com';

describe('Twilio webhooks (signed) against real Postgres', () => {
  let db: Knex;
  let closeServer: () => Promise<void>;
  let base: string;
  let calls: CallsRepo;
  let draining = false;

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    const agents = new AgentsRepo(db);
    await agents.upsert(DEMO_AGENT);
    const app = createApp({ logger: pino({ level: 'silent' }), routers: [createTwilioRouter({ calls, agents, authToken: TOKEN, publicBaseUrl: PUBLIC, logger: pino({ level: 'silent' }), draining: () => draining })] });
    ({ base, close: closeServer } = await listen(app));
  });

  afterAll(async () => {
    await closeServer();
    await db.destroy();
  });

  const post = (path: string, params: Record<string, string>, signature?: string | null) =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === null ? {} : { 'x-twilio-signature': signature ?? signTwilioRequest(TOKEN, PUBLIC + path, params) }) },
      body: new URLSearchParams(params).toString(),
    });

  const voice = (callSid: string) => ({ AccountSid: 'AC1', CallSid: callSid, From: '+14155550100', To: '+18005550199', Direction: 'inbound', CallStatus: 'ringing' });

  it('answers with <Connect><Stream> to the wss media stream and creates the call row', async () => {
    const callSid = uniqueSid('CA');
    const res = await post('/twilio/voice', voice(callSid));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const stream = parseStreamTwiml(await res.text());
    expect(stream.url).toBe('wss://voice.example.com/twilio/media-stream');
    expect(stream.parameters).toEqual({ agentId: 'support', callSid });
    const row = await calls.get(callSid);
    expect(row).toMatchObject({ callSid, agentId: 'support', from: '+14155550100', to: '+18005550199', direction: 'inbound' });
  });

  it('403s a forged or missing signature and creates nothing', async () => {
    const a = uniqueSid('CA');
    const forged = await post('/twilio/voice', voice(a), signTwilioRequest('wrong-token', PUBLIC + '/twilio/voice', voice(a)));
    expect(forged.status).toBe(403);
    const b = uniqueSid('CA');
    expect((await post('/twilio/voice', voice(b), null)).status).toBe(403);
    // Signed over another URL (what the server sees locally, not the public one).
    const c = uniqueSid('CA');
    expect((await post('/twilio/voice', voice(c), signTwilioRequest(TOKEN, base + '/twilio/voice', voice(c)))).status).toBe(403);
    expect(await calls.get(a)).toBeNull();
    expect(await calls.get(b)).toBeNull();
    expect(await calls.get(c)).toBeNull();
  });

  it('400s a signed but malformed body', async () => {
    const res = await post('/twilio/voice', { From: '+1' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CallSid/);
  });

  it('records status callbacks in order, ignoring a late lower sequence number', async () => {
    const callSid = uniqueSid('CA');
    await post('/twilio/voice', voice(callSid));
    expect((await post('/twilio/status', { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '3', CallDuration: '12' })).status).toBe(204);
    expect((await post('/twilio/status', { CallSid: callSid, CallStatus: 'in-progress', SequenceNumber: '1' })).status).toBe(204);
    const row = await calls.get(callSid);
    expect(row?.status).toBe('completed');
    expect(row?.endedAt).not.toBeNull();
    const events = await calls.events(callSid);
    expect(events.filter((e) => e.type === 'twilio.status')).toHaveLength(2);
    expect((await post('/twilio/status', { CallSid: 'CAunknown', CallStatus: 'completed' })).status).toBe(404);
    expect((await post('/twilio/status', { CallSid: callSid, CallStatus: 'completed' }, 'forged')).status).toBe(403);
  });

  it('a terminal status is final: a late in-progress callback does not reopen the call', async () => {
    const callSid = uniqueSid('CA');
    await post('/twilio/voice', voice(callSid));
    expect(await calls.attachStream(callSid, 'MZ1')).toBe(true);
    await calls.finish(callSid, { language: 'en', intent: null });
    expect((await post('/twilio/status', { CallSid: callSid, CallStatus: 'in-progress', SequenceNumber: '5' })).status).toBe(204);
    expect((await calls.get(callSid))?.status).toBe('completed');
  });

  it('a media stream attaches to a call once, and never to an ended call', async () => {
    const a = uniqueSid('CA');
    await post('/twilio/voice', voice(a));
    expect(await calls.attachStream(a, 'MZfirst')).toBe(true);
    expect(await calls.attachStream(a, 'MZreplay')).toBe(false);
    expect((await calls.get(a))?.streamSid).toBe('MZfirst');
    const b = uniqueSid('CA');
    await post('/twilio/voice', voice(b));
    await post('/twilio/status', { CallSid: b, CallStatus: 'canceled', SequenceNumber: '0' });
    expect(await calls.attachStream(b, 'MZlate')).toBe(false);
    expect(await calls.attachStream('CAnope', 'MZx')).toBe(false);
  });

  it('while draining, a new call gets the busy message and <Hangup/>, no row; signatures still checked; status callbacks still recorded', async () => {
    const live = uniqueSid('CA');
    await post('/twilio/voice', voice(live));
    draining = true;
    try {
      const callSid = uniqueSid('CA');
      const res = await post('/twilio/voice', voice(callSid));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/xml/);
      expect(await res.text()).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, all our agents are busy right now. Please call again later.</Say><Hangup/></Response>',
      );
      expect(await calls.get(callSid)).toBeNull();
      expect((await post('/twilio/voice', voice(uniqueSid('CA')), 'forged')).status).toBe(403);
      expect((await post('/twilio/status', { CallSid: live, CallStatus: 'completed', SequenceNumber: '1' })).status).toBe(204);
      expect((await calls.get(live))?.status).toBe('completed');
    } finally {
      draining = false;
    }
  });

  it('GET /healthz answers 200 without auth', async () => {
    expect((await fetch(base + '/healthz')).status).toBe(200);
  });
});
