import pino from 'pino';
import type { Job } from 'bullmq';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { AppContext } from '../../src/context';
import { AgentsRepo } from '../../src/db/agents';
import { CallsRepo } from '../../src/db/calls';
import { PostCallRepo } from '../../src/db/post-call';
import type { PostCallPayload } from '../../src/jobs/queues';
import { mulawEncode } from '../../src/audio/mulaw';
import { CALL_CONTROL_PHRASES as P } from '../../src/engine/call-control-phrases';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall, type CallerTurn } from '../../src/cli/twilio-simulator';
import { createCsatProcessor } from '../../workers/processors/csat';
import type { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { startOpenAiDouble, type OpenAiDouble } from '../doubles/openai-double';
import { EnergyVad } from '../helpers/energy-vad';
import { scriptedStack } from '../helpers/scripted-stack';
import { closeInProcessServer } from '../helpers/in-process-server';
import { endedCallRow } from '../helpers/db';

/** `ms` of a 440 Hz tone (speech to the energy VAD), then 100 ms of silence, as 8 kHz mu-law. */
function tone(ms: number): Uint8Array {
  const pcm = new Int16Array((ms + 100) * 8);
  for (let i = 0; i < ms * 8; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return mulawEncode(pcm);
}

/**
 * The end-of-call CSAT survey on the real server: Twilio webhooks and Media Streams from the simulator (real-time
 * frames, a real `dtmf` event), the agent's LLM through the real OpenAI SDK against the OpenAI double (its `end_call`
 * tool call ends the conversation), the hang-up over the real twilio client against the REST double; then the csat
 * post-call step stores the stated score beside the predicted one.
 */
describe('CSAT survey on a live call', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  let rest: TwilioRestDouble;
  let transcripts: string[];
  let openai: OpenAiDouble;
  const agentId = `csat-e2e-${process.pid}`;
  const number = `+1500${process.pid % 1000}${String(Date.now() % 10_000).padStart(4, '0')}7`.slice(0, 16);

  beforeAll(async () => {
    openai = await startOpenAiDouble({ apiKey: 'sk-test-csat' });
    ({ db, config, ctx, rest, transcripts } = await scriptedStack(
      { OPENAI_API_KEY: 'sk-test-csat', OPENAI_BASE_URL: openai.baseURL, STT_PROVIDER: 'fake', LLM_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local', SILENCE_REPROMPT_MS: '0', RECORDINGS_ENABLED: 'false' },
      'csat-survey',
      { createVadStream: () => new EnergyVad() },
    ));
    const agents = new AgentsRepo(db);
    await agents.upsert({
      id: agentId, name: agentId, systemPrompt: 'You help.', firstMessage: 'Hi there.', defaultLanguage: 'en', languages: ['en'], voices: { en: 'en-us' }, intents: [],
      handoffNumber: null, isDefault: false, providers: { llm: 'openai' }, csatSurvey: { enabled: true, timeoutMs: 6_000 },
    });
    await agents.bindNumber(number, agentId);
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db: null });
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
    await openai?.close();
  });

  it('end_call → survey prompt → caller presses 4 → "Thank you." → hang-up; the csat step stores stated 4 beside the predicted score', async () => {
    transcripts.push('Thanks, that is all I needed.');
    openai.script('chat', { kind: 'chat', content: ['Glad I could help.'], toolCalls: [{ id: 'call_end', name: 'end_call', arguments: ['{"reason":"caller said goodbye"}'] }] });
    const ended = new AbortController();
    rest.onUpdate = () => ended.abort();
    const turns: CallerTurn[] = [{ audio: tone(1200) }, { audio: new Uint8Array(0), dtmf: '4' }];
    const sim = await simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`, publicBaseUrl: config.publicBaseUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid,
      to: number, callerTurns: turns, settleMs: 800, endSignal: ended.signal,
    });
    const calls = new CallsRepo(db);
    await endedCallRow(db, sim.callSid);
    const agentLines = (await calls.turns(sim.callSid)).filter((t) => t.role === 'agent').map((t) => t.text);
    expect(agentLines).toEqual(['Hi there.', 'Glad I could help.', P.csatPrompt.en, P.csatThanks.en]);
    const events = await calls.events(sim.callSid);
    expect(events.filter((e) => e.type.startsWith('csat.')).map((e) => [e.type, e.payload.score, e.payload.via])).toEqual([['csat.stated', 4, 'dtmf']]);
    expect(events.filter((e) => e.type === 'dtmf').map((e) => e.payload.digit)).toEqual(['X']); // the key itself stays masked
    const row = await db('calls').where({ call_sid: sim.callSid }).first();
    expect(row.end_reason).toBe('caller said goodbye');
    expect(rest.requests.filter((r) => r.uri.endsWith(`/Calls/${sim.callSid}.json`)).map((r) => r.data.Status)).toEqual(['completed']);

    const postCall = new PostCallRepo(db);
    await createCsatProcessor({ calls, postCall, queue: ctx.queue, logger: pino({ level: 'silent' }), crmJobOptions: { attempts: 1 } })({ data: { callSid: sim.callSid } } as Job<PostCallPayload>);
    const csat = await postCall.getCsat(sim.callSid);
    expect(csat).toMatchObject({ statedScore: 4, method: 'heuristic-v2+default' });
    expect(csat!.score).toBeGreaterThanOrEqual(1);
    expect(csat!.statedAt!.getTime()).toBe(new Date(events.find((e) => e.type === 'csat.stated')!.at).getTime());
  }, 90_000);
});
