import { listen } from '../../helpers/http';
import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { createApp } from '../../../src/http/app';
import { createTwilioWhisperRouter, WHISPER_FALLBACK } from '../../../src/http/routes/twilio-whisper';
import { CallsRepo } from '../../../src/db/calls';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { whisperUrl } from '../../../src/telephony/call-control';

const TOKEN = 'whisper-test-token';
const PUBLIC = 'https://voice.example.com';
const AGENT_ID = 'test-whisper-agent';

describe('POST /twilio/whisper (signed) against real Postgres', () => {
  let db: Knex;
  let closeServer: () => Promise<void>;
  let base: string;
  let calls: CallsRepo;

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    await db('agents').insert({ id: AGENT_ID, name: 'Whisper test agent', system_prompt: 'test', first_message: 'Hello' }).onConflict('id').ignore();
    const app = createApp({ logger: pino({ level: 'silent' }), routers: [createTwilioWhisperRouter({ calls, authToken: TOKEN, publicBaseUrl: PUBLIC, logger: pino({ level: 'silent' }) })] });
    ({ base, close: closeServer } = await listen(app));
  });

  afterAll(async () => {
    await closeServer();
    await db.destroy();
  });

  /** What Twilio POSTs to the `<Number url>` when the human answers (the dialed leg's CallSid, not ours). */
  const params = { AccountSid: 'AC1', CallSid: 'CAchildleg0001', CallStatus: 'in-progress', Direction: 'outbound-dial', From: '+18005550199', To: '+14155550111' };
  const post = (callSid: string, signature?: string | null) => {
    const path = new URL(whisperUrl(PUBLIC, callSid)).pathname + new URL(whisperUrl(PUBLIC, callSid)).search;
    return fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === null ? {} : { 'x-twilio-signature': signature ?? signTwilioRequest(TOKEN, whisperUrl(PUBLIC, callSid), params) }) },
      body: new URLSearchParams(params).toString(),
    });
  };

  async function transferredCall(summary: string): Promise<string> {
    const callSid = uniqueSid('CA');
    await calls.create({ callSid, agentId: AGENT_ID, direction: 'inbound', from: '+14155550100', to: '+18005550199', status: 'in-progress' });
    await calls.setTransfer(callSid, { target: '+14155550111', reason: 'caller_request', summary, at: new Date().toISOString() });
    return callSid;
  }

  it('speaks the stored transfer summary (XML-escaped) to the human', async () => {
    const callSid = await transferredCall('Transferred call. The caller asked: where is order A-48213 & when does it arrive.');
    const res = await post(callSid);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    expect(await res.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Transferred call. The caller asked: where is order A-48213 &amp; when does it arrive.</Say></Response>',
    );
  });

  it('403s a missing, forged or other-call signature and reveals nothing', async () => {
    const callSid = await transferredCall('Secret summary text.');
    const missing = await post(callSid, null);
    expect(missing.status).toBe(403);
    const forged = await post(callSid, signTwilioRequest('wrong-token', whisperUrl(PUBLIC, callSid), params));
    expect(forged.status).toBe(403);
    // A valid signature for another call's URL does not open this one (the callSid is covered by the signature).
    const other = await post(callSid, signTwilioRequest(TOKEN, whisperUrl(PUBLIC, 'CAanother0001'), params));
    expect(other.status).toBe(403);
    for (const r of [missing, forged, other]) expect(await r.text()).not.toContain('Secret');
  });

  it('a call without a stored summary gets the generic line; a malformed callSid 400s', async () => {
    const res = await post(uniqueSid('CA'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`<Say>${WHISPER_FALLBACK}</Say>`);
    expect((await post('bad:sid')).status).toBe(400);
  });
});
