import { Writable } from 'node:stream';
import pino from 'pino';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { AppContext } from '../../src/context';
import { AgentsRepo, type AgentInput } from '../../src/db/agents';
import { mulawEncode } from '../../src/audio/mulaw';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall, type SimulateCallHooks } from '../../src/cli/twilio-simulator';
import type { FakeLlm } from '../../src/providers/llm/fake';
import { startOpenAiDouble, type OpenAiDouble } from '../doubles/openai-double';
import { EnergyVad } from '../helpers/energy-vad';
import { scriptedStack } from '../helpers/scripted-stack';
import { closeInProcessServer } from '../helpers/in-process-server';

/** `ms` of a 440 Hz tone (speech to the energy VAD), then 100 ms of silence, as 8 kHz mu-law. */
function tone(ms: number): Uint8Array {
  const pcm = new Int16Array((ms + 100) * 8);
  for (let i = 0; i < ms * 8; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return mulawEncode(pcm);
}

let numberSeq = 0;
const newNumber = () => `+1500${process.pid % 1000}${String(Date.now() % 10_000).padStart(4, '0')}${numberSeq++}`.slice(0, 16);

/**
 * Per-agent settings on the real server: real Twilio webhooks and Media Streams (the simulator streams in real
 * time), scripted fake STT/LLM/TTS as the server's defaults, the real OpenAI SDK against the OpenAI double for an
 * agent that picks it, and an energy VAD so endpointing is decided on stream time only (synthetic tone "speech").
 */
describe('per-agent settings on live calls', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  let transcripts: string[];
  let replies: string[];
  let openai: OpenAiDouble;
  let agents: AgentsRepo;
  const logLines: string[] = [];

  beforeAll(async () => {
    openai = await startOpenAiDouble({ apiKey: 'sk-test-agents' });
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (logLines.push(chunk.toString()), cb()) }));
    ({ db, config, ctx, transcripts, replies } = await scriptedStack(
      {
        OPENAI_API_KEY: 'sk-test-agents',
        OPENAI_BASE_URL: openai.baseURL,
        STT_PROVIDER: 'fake',
        LLM_PROVIDER: 'fake',
        TTS_PROVIDER: 'fake',
        EMBEDDINGS_PROVIDER: 'local',
        SILENCE_REPROMPT_MS: '0',
      },
      'agent-settings',
      { logger, createVadStream: () => new EnergyVad() },
    ));
    agents = new AgentsRepo(db);
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
    await openai?.close();
  });

  /** Creates (or updates) an agent bound to a fresh number; returns the number. */
  async function agentOn(over: Partial<AgentInput> & { id: string }): Promise<string> {
    await agents.upsert({
      name: over.id,
      systemPrompt: `You are ${over.id}.`,
      firstMessage: 'Hi there.',
      defaultLanguage: 'en',
      languages: ['en', 'es'],
      voices: { en: 'en-us', es: 'es' },
      intents: [],
      handoffNumber: null,
      isDefault: false,
      ...over,
    });
    const number = newNumber();
    await agents.bindNumber(number, over.id);
    return number;
  }

  /** One call to `to`: the caller says `heard` (a 1.2 s tone the fake STT transcribes so) after the greeting. */
  async function call(to: string, heard: string, o: { reply?: string; hooks?: SimulateCallHooks; audio?: Uint8Array; hangUp?: boolean } = {}) {
    transcripts.push(heard);
    if (o.reply) replies.push(o.reply);
    const sim = await simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      to,
      callerTurns: [{ audio: o.audio ?? tone(1200) }],
      afterLastTurn: o.hangUp ? 'hang_up' : 'await_reply',
      settleMs: 800,
      hooks: o.hooks,
    });
    transcripts.length = 0;
    replies.length = 0;
    const turns = await db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    const row = await db('calls').where({ call_sid: sim.callSid }).first();
    return { sim, turns, row, reply: turns.find((t) => t.role === 'agent' && t.timings?.endpointingMs !== undefined) };
  }

  const llmCalls = () => (ctx.providers.llm as FakeLlm).calls;

  it("greets in the agent's default language with firstMessages[language]", async () => {
    const to = await agentOn({ id: `es-${process.pid}`, defaultLanguage: 'es', firstMessage: 'Hello.', firstMessages: { es: 'Hola, ¿en qué puedo ayudarle?' } });
    const { turns, row } = await call(to, 'Necesito ayuda con mi pedido');
    expect(row.agent_id).toBe(`es-${process.pid}`);
    expect(turns[0]).toMatchObject({ role: 'agent', text: 'Hola, ¿en qué puedo ayudarle?', language: 'es' });
  }, 60_000);

  it("an agent's LLM choice and its model/temperature reach the OpenAI request; other agents keep the server's LLM", async () => {
    const id = `oa-${process.pid}`;
    const to = await agentOn({ id, providers: { llm: 'openai' }, llm: { model: 'gpt-4o-agent', temperature: 0.25 } });
    openai.script('chat', { kind: 'chat', content: ['We open ', 'at nine.'] });
    const fakeBefore = llmCalls().length;
    const chatBefore = openai.requestsTo('chat').length;
    const { turns } = await call(to, 'When do you open');
    const chats = openai.requestsTo('chat').slice(chatBefore);
    expect(chats).toHaveLength(1);
    expect(chats[0].body).toMatchObject({ model: 'gpt-4o-agent', temperature: 0.25, stream: true });
    expect(JSON.stringify(chats[0].body)).toContain(`You are ${id}.`);
    expect(turns.map((t) => t.text)).toEqual(['Hi there.', 'When do you open', 'We open at nine.']);
    expect(llmCalls().length).toBe(fakeBefore);

    // An agent without a choice: the server's (scripted fake) LLM answers; OpenAI is not asked.
    const plain = await agentOn({ id: `plain-${process.pid}` });
    const again = await call(plain, 'When do you open', { reply: 'From the server default.' });
    expect(openai.requestsTo('chat').length).toBe(chatBefore + 1);
    expect(llmCalls().length).toBe(fakeBefore + 1);
    expect(llmCalls().at(-1)).not.toHaveProperty('model');
    expect(again.turns.at(-1).text).toBe('From the server default.');
  }, 90_000);

  it('a provider choice the server cannot use is ignored with one warning per call; the call uses the default', async () => {
    const id = `el-${process.pid}`;
    const to = await agentOn({ id, providers: { tts: 'elevenlabs' } });
    const before = logLines.length;
    const { sim, turns } = await call(to, 'Hello', { reply: 'Hello to you.' });
    expect(sim.agentAudio.length).toBeGreaterThan(0);
    expect(turns.map((t) => t.text)).toEqual(['Hi there.', 'Hello', 'Hello to you.']);
    const warnings = logLines.slice(before).map((l) => JSON.parse(l)).filter((l) => l.level === 40 && /provider choice/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ agentId: id, ignored: [{ capability: 'tts', provider: 'elevenlabs', reason: 'ELEVENLABS_API_KEY is not set' }] });
    expect(logLines.slice(before).some((l) => JSON.parse(l).level >= 50)).toBe(false);
  }, 60_000);

  it("endpointing overrides decide when the caller's turn ends (silenceMs; completeMs after a finished sentence)", async () => {
    const window = 32; // the energy VAD's window: the turn ends at the first window past the silence
    const slow = await agentOn({ id: `slow-${process.pid}`, endpointing: { silenceMs: 1500, completeMs: 700 } });
    const plain = await agentOn({ id: `plain2-${process.pid}` });
    const a = await call(slow, 'I need help with my order');
    const b = await call(plain, 'I need help with my order');
    expect(a.reply.timings.endpointingMs).toBeGreaterThanOrEqual(1500);
    expect(a.reply.timings.endpointingMs).toBeLessThan(1500 + window);
    expect(b.reply.timings.endpointingMs).toBeGreaterThanOrEqual(config.engine.endpointingSilenceMs);
    expect(b.reply.timings.endpointingMs).toBeLessThan(config.engine.endpointingSilenceMs + window);
    // A question mark ends a sentence: the adaptive endpointing's completeMs (the agent's 700, the server's 400).
    const c = await call(slow, 'When do you open?');
    const d = await call(plain, 'When do you open?');
    expect(c.reply.timings.endpointingMs).toBeGreaterThanOrEqual(700);
    expect(c.reply.timings.endpointingMs).toBeLessThan(700 + window);
    expect(d.reply.timings.endpointingMs).toBeGreaterThanOrEqual(config.engine.endpointingCompleteMs);
    expect(d.reply.timings.endpointingMs).toBeLessThan(config.engine.endpointingCompleteMs + window);
  }, 120_000);

  it('minSpeechMs reaches the VAD: speech shorter than the agent\'s minimum is noise, not a turn', async () => {
    const deaf = await agentOn({ id: `deaf-${process.pid}`, endpointing: { minSpeechMs: 1500 } });
    const plain = await agentOn({ id: `plain3-${process.pid}` });
    const speech = new Uint8Array([...tone(1200), ...new Uint8Array(2000 * 8).fill(0xff)]);
    const a = await call(deaf, 'I need help with my order', { audio: speech, hangUp: true });
    const b = await call(plain, 'I need help with my order', { audio: speech, hangUp: true });
    expect(a.turns.map((t) => t.role)).toEqual(['agent']);
    expect(b.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
  }, 60_000);

  it('an edit applies to the next call: the live call keeps its greeting, prompt and endpointing', async () => {
    const id = `snap-${process.pid}`;
    const base = { id, firstMessage: 'Version one.', systemPrompt: 'Prompt one.', endpointing: { silenceMs: 1200 } };
    const to = await agentOn(base);
    let edited: Promise<unknown> | null = null;
    let editedBeforeCallerSpoke = false;
    const first = await call(to, 'I need help with my order', {
      hooks: {
        // The greeting is playing: the call has started with the agent as it was. Edit it now.
        onAgentMedia: () => void (edited ??= agents.upsert({ ...base, name: id, defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false, firstMessage: 'Version two.', systemPrompt: 'Prompt two.', endpointing: { silenceMs: 2000 } }).then(() => (editedBeforeCallerSpoke = true))),
        onCallerTurn: () => expect(editedBeforeCallerSpoke).toBe(true),
      },
    });
    await edited;
    expect((await agents.get(id))!.firstMessage).toBe('Version two.');
    expect(first.turns[0].text).toBe('Version one.');
    expect(llmCalls().at(-1)!.system).toBe('Prompt one.');
    expect(first.reply.timings.endpointingMs).toBeGreaterThanOrEqual(1200);
    expect(first.reply.timings.endpointingMs).toBeLessThan(1200 + 32);

    const second = await call(to, 'I need help with my order');
    expect(second.turns[0].text).toBe('Version two.');
    expect(llmCalls().at(-1)!.system).toBe('Prompt two.');
    expect(second.reply.timings.endpointingMs).toBeGreaterThanOrEqual(2000);
    expect(second.reply.timings.endpointingMs).toBeLessThan(2000 + 32);
  }, 90_000);
});
