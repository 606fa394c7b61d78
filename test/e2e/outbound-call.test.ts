import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { AppContext } from '../../src/context';
import { AgentsRepo } from '../../src/db/agents';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { signTwilioRequest } from '../../src/telephony/signature';
import type { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { scriptedStack } from '../helpers/scripted-stack';
import { closeInProcessServer } from '../helpers/in-process-server';
import { endedCallRow } from '../helpers/db';

/**
 * Outbound calls on the real server: the signed outbound voice webhook, Media Streams in real time with a real
 * recording as the callee (Silero VAD decides when they spoke), scripted fake STT/LLM/TTS, the Twilio REST double for
 * the hang-up, and the AMD callback delivered through Redis to the session.
 */
describe('outbound call, end to end', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  let transcripts: string[];
  let rest: TwilioRestDouble;
  const agentId = `outbound-${process.pid}`;
  let campaignId: string;
  const callee = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')).subarray(0, 8 * 2_500); // 2.5 s of real speech

  beforeAll(async () => {
    ({ db, config, ctx, transcripts, rest } = await scriptedStack(
      { STT_PROVIDER: 'fake', LLM_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local', SILENCE_REPROMPT_MS: '0', OUTBOUND_GREETING_WAIT_MS: '60000' },
      'outbound-e2e',
    ));
    await new AgentsRepo(db).upsert({
      id: agentId,
      name: 'Renewals',
      systemPrompt: 'You call {{first_name}} about order {{order_id}}.',
      firstMessage: 'Hi {{first_name}}, this is Acme about your order {{order_id}}.',
      defaultLanguage: 'en',
      languages: ['en'],
      voices: { en: 'en-us' },
      intents: [],
      handoffNumber: null,
      isDefault: false,
      voicemailMessage: 'Hi {{first_name}}, Acme here. Please call us back.',
    });
    campaignId = `cmp_${randomUUID().slice(0, 8)}`;
    await db('campaigns').insert({
      id: campaignId,
      name: 'e2e',
      agent_id: agentId,
      caller_ids: JSON.stringify([{ number: '+14155550100', dailyCap: null }]),
      window: JSON.stringify({ days: ['mon'], start: '09:00', end: '20:00', blackoutDates: [] }),
      max_concurrent: 1,
      retry: JSON.stringify({ maxAttempts: 1, delaysSeconds: { busy: [], noAnswer: [], failed: [], voicemail: [] } }),
    });
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
  });

  async function attempt(): Promise<string> {
    const phone = `+1646555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const [c] = await db('campaign_contacts')
      .insert({ campaign_id: campaignId, phone, timezones: ['America/New_York'], variables: JSON.stringify({ first_name: 'Ana', order_id: 'A-17' }), state: 'in-progress', attempts: 1 })
      .returning('id');
    const id = randomUUID();
    await db('call_attempts').insert({ id, campaign_id: campaignId, contact_id: c.id, attempt_no: 1, to_number: phone, from_number: '+14155550100', agent_id: agentId });
    return id;
  }

  const base = () => ({ serverUrl: `http://127.0.0.1:${server.port}`, publicBaseUrl: config.publicBaseUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid });

  it("the agent stays silent until the callee's hello, then greets with the contact's variables", async () => {
    transcripts.push('Hello?');
    const attemptId = await attempt();
    const sim = await simulateCall({ ...base(), outbound: { attemptId }, callerTurns: [{ audio: callee }], greetingTimeoutMs: 1_000, afterLastTurn: 'await_reply', settleMs: 800 });
    transcripts.length = 0;
    expect(sim.turns[0].startMs).toBeGreaterThanOrEqual(900); // 1 s of silence went out first …
    expect(sim.segments.length).toBeGreaterThan(0);
    expect(sim.segments[0].firstAudioMs).toBeGreaterThan(sim.turns[0].startMs); // … and the agent said nothing during it
    const turns = await db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    expect(turns.map((t) => [t.role, t.text])).toEqual([
      ['caller', 'Hello?'],
      ['agent', 'Hi Ana, this is Acme about your order A-17.'],
    ]);
    expect(await db('calls').where({ call_sid: sim.callSid }).first('direction', 'campaign_id', 'attempt_id')).toEqual({ direction: 'outbound-api', campaign_id: campaignId, attempt_id: attemptId });
  }, 60_000);

  it('AMD machine_end_beep mid-call: the voicemail plays to the end, voicemail_played is stored, the call is hung up', async () => {
    const attemptId = await attempt();
    const ended = new AbortController();
    rest.onUpdate = () => ended.abort();
    const sent = { amd: false };
    const sim = await simulateCall({
      ...base(),
      outbound: { attemptId },
      callerTurns: [{ audio: callee }],
      greetingTimeoutMs: 500,
      afterLastTurn: 'await_reply',
      settleMs: 5_000,
      replyTimeoutMs: 20_000,
      endSignal: ended.signal,
      hooks: {
        onCallerTurn: () => {
          if (sent.amd) return;
          sent.amd = true;
          void (async () => {
            const { call_sid: callSid } = await db('call_attempts').where({ id: attemptId }).first('call_sid');
            const params = { CallSid: callSid, AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '3100' };
            await fetch(`http://127.0.0.1:${server.port}/twilio/amd`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(config.twilio.authToken, `${config.publicBaseUrl}/twilio/amd`, params) },
              body: new URLSearchParams(params).toString(),
            });
          })();
        },
      },
    });
    rest.onUpdate = undefined;
    expect(ended.signal.aborted).toBe(true); // hung up over REST
    await endedCallRow(db, sim.callSid);
    const row = await db('call_attempts').where({ id: attemptId }).first();
    expect(row).toMatchObject({ answered_by: 'machine_end_beep', amd_source: 'twilio-amd', voicemail_played: true });
    const turns = await db('call_turns').where({ call_sid: sim.callSid, role: 'agent' }).orderBy('seq');
    expect(turns.map((t) => t.text)).toEqual(['Hi Ana, Acme here. Please call us back.']);
    expect((await db('calls').where({ call_sid: sim.callSid }).first('end_reason')).end_reason).toBe('voicemail');
  }, 60_000);
});
