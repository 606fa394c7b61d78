import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { endedCallRow, setupTestDb, testDatabaseUrl } from '../helpers/db';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { startWorkers, type RunningWorkers } from '../../workers';
import { createRedisConnection } from '../../src/jobs/queues';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { LocalEspeakTts } from '../../src/providers/tts/local-espeak';
import { LocalHashEmbedder } from '../../src/providers/embeddings/local-hash';
import { startOpenAiDouble, type OpenAiDouble } from '../doubles/openai-double';
import { startElevenLabsDouble, type ElevenLabsDouble } from '../doubles/elevenlabs-double';
import { startPineconeDouble, type PineconeDouble } from '../doubles/pinecone-double';

const SPANISH_QUESTION = '¿A qué hora abren el sábado?';
const HOURS_ES = 'Horario de atención: abrimos de lunes a viernes de ocho a veinte horas y el sábado de nueve a diecisiete horas. Los domingos cerramos.';
const REPLY_ES = ['El sábado ', 'abrimos de nueve ', 'a diecisiete horas. ', '¿Le puedo ayudar ', 'en algo más?'];

/** 8 kHz mu-law of `text` spoken by espeak-ng in `language`, followed by 1.2 s of silence. */
const PAD_MS = 200; // the simulator keeps sending silence after the recording, so endpointing still sees it
async function spoken(text: string, language: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of new LocalEspeakTts().synthesize(text, { language, voice: language, signal: new AbortController().signal })) parts.push(c.data);
  parts.push(new Uint8Array(PAD_MS * 8).fill(0xff));
  return Buffer.concat(parts);
}

/** The OpenAI double's embeddings, made meaningful: the offline hashing embedder (384 dims) zero-padded to 1536. */
function hashEmbeddings(inputs: string[]): number[][] {
  const e = new LocalHashEmbedder();
  return inputs.map((t) => [...Array.from(e.embedOne(t)), ...new Array(1536 - e.dimensions).fill(0)]);
}

/**
 * A call on the cloud stack — Whisper, OpenAI chat, OpenAI embeddings, Pinecone, ElevenLabs — with the real SDKs
 * pointed at local doubles that speak each vendor's wire format, the real server, VAD and workers, and a simulated
 * Twilio caller speaking Spanish (espeak-ng).
 */
describe('cloud providers end to end (SDKs against wire doubles)', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let workers: RunningWorkers;
  let workerRedis: ReturnType<typeof createRedisConnection>;
  let config: Readonly<Config>;
  let openai: OpenAiDouble;
  let eleven: ElevenLabsDouble;
  let pinecone: PineconeDouble;
  const prefix = `cloud-${process.pid}-${Date.now()}`;
  const base = () => `http://127.0.0.1:${server.port}`;
  const auth = () => ({ authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' });

  /**
   * One call where the caller says `text` (espeak-ng, English); returns the call and the silences the caller sat
   * through after they stopped speaking: before the first agent audio, then between agent audio frames (ms).
   */
  /** `onGreetingAudio`: called once, when the greeting's first audio reaches the caller. */
  async function callMeasuringSilence(text: string, onGreetingAudio?: () => void) {
    const agentMedia: number[] = [];
    let callerEnd = 0;
    const sim = await simulateCall({
      serverUrl: base(),
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: await spoken(text, 'en'),
      // The caller hangs up once the agent has been quiet this long with every mark echoed. A fallback TTS that
      // streams slowly on a busy machine leaves gaps before its segment's mark is even sent: wait them out.
      settleMs: 3_000,
      hooks: {
        onAgentMedia: (at) => {
          if (!agentMedia.length) onGreetingAudio?.();
          agentMedia.push(at);
        },
        onCallerTurn: (_i, _s, end) => (callerEnd = end),
      },
    });
    // The caller stopped speaking PAD_MS before the end of the audio sent.
    const speechEnd = callerEnd - PAD_MS;
    const after = agentMedia.filter((t) => t >= speechEnd);
    const gaps = after.length ? [after[0] - speechEnd, ...after.slice(1).map((t, i) => t - after[i])] : [];
    return { sim, gaps, maxSilenceMs: gaps.length ? Math.round(Math.max(...gaps)) : Infinity };
  }

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
    openai = await startOpenAiDouble({ apiKey: 'sk-test-cloud' });
    eleven = await startElevenLabsDouble({ apiKey: 'xi-test-cloud' });
    pinecone = await startPineconeDouble({ apiKey: 'pc-test-cloud' });
    config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      LOG_LEVEL: 'silent',
      OPENAI_API_KEY: 'sk-test-cloud',
      OPENAI_BASE_URL: openai.baseURL,
      ELEVENLABS_API_KEY: 'xi-test-cloud',
      ELEVENLABS_BASE_URL: eleven.baseUrl,
      PINECONE_API_KEY: 'pc-test-cloud',
      PINECONE_INDEX_HOST: pinecone.host,
      SILENCE_REPROMPT_MS: '0',
    });
    expect(config.providers).toMatchObject({ stt: 'openai', llm: 'openai', tts: 'elevenlabs', embeddings: 'openai', vector: 'pinecone' });
    const logger = pino({ level: 'silent' });
    ctx = await buildAppContext(config, logger, { queuePrefix: prefix });
    server = await startServer(config, ctx);
    workerRedis = createRedisConnection(config.redisUrl, 'worker');
    workers = startWorkers({ db: ctx.db, connection: workerRedis, prefix, logger, crm: config.crm, knowledge: { embedder: ctx.providers.embedder, vectors: ctx.providers.vectors } });
  }, 120_000);

  afterAll(async () => {
    // Other test files share this Jest worker's database: leave the support agent's knowledge as it was.
    await db?.('knowledge_documents').where({ agent_id: 'support', title: 'Horario' }).delete();
    await server?.close();
    await workers?.queue.obliterate({ force: true }).catch(() => undefined);
    await workers?.close();
    workerRedis?.disconnect();
    await ctx?.close();
    await Promise.all([openai?.close(), eleven?.close(), pinecone?.close()]);
    await db?.destroy();
  });

  it('a Spanish caller: stored as es, uploaded knowledge in the LLM request, Spanish ulaw_8000 reply, byte-identical audio', async () => {
    openai.script('embeddings', ...Array.from({ length: 10 }, () => (req: { body?: any }) => ({ kind: 'embeddings' as const, vectors: hashEmbeddings([req.body.input].flat()) })));
    // 1. Upload the Spanish knowledge through the API; the worker embeds it (OpenAI) into Pinecone.
    const res = await fetch(`${base()}/api/agents/support/knowledge`, { method: 'POST', headers: auth(), body: JSON.stringify({ title: 'Horario', text: HOURS_ES, language: 'es' }) });
    expect(res.status).toBe(202);
    const { document } = (await res.json()) as { document: { id: string } };
    let status = 'pending';
    for (let i = 0; i < 100 && status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const body = (await (await fetch(`${base()}/api/agents/support/knowledge/${document.id}`, { headers: auth() })).json()) as { document: { status: string } };
      status = body.document.status;
    }
    expect(status).toBe('ready');
    expect(pinecone.requests.some((r) => r.path === '/vectors/upsert' && r.body?.namespace === 'agent:support')).toBe(true);

    // 2. The call.
    openai.script('transcriptions', { kind: 'transcription', text: SPANISH_QUESTION, language: 'spanish' });
    openai.script('chat', { kind: 'chat', content: REPLY_ES });
    const elevenBefore = eleven.requests.length;
    const sim = await simulateCall({
      serverUrl: base(),
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: await spoken(SPANISH_QUESTION, 'es'),
    });
    expect(sim.closeCode).toBe(1000);

    // Whisper got a WAV and reported Spanish; the turn is stored as es.
    const stt = openai.requestsTo('transcriptions').at(-1)!;
    expect(stt.multipart?.fields).toMatchObject({ model: 'whisper-1', response_format: 'verbose_json' });
    const turns = await db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    const caller = turns.find((t) => t.role === 'caller');
    expect(caller).toMatchObject({ text: SPANISH_QUESTION, language: 'es' });

    // Retrieval (OpenAI embedding of the question → Pinecone query) put the uploaded passage in the chat request.
    const query = pinecone.requests.filter((r) => r.path === '/query').at(-1)!;
    expect(query.body).toMatchObject({ namespace: 'agent:support', topK: 3, includeMetadata: true });
    const chat = openai.requestsTo('chat').at(-1)!;
    expect(chat.body).toMatchObject({ model: 'gpt-4o-mini', stream: true });
    const system = chat.body.messages[0].content as string;
    expect(system).toContain('sábado de nueve a diecisiete horas');
    expect(system).toMatch(/Spanish/);
    expect(chat.body.messages.at(-1)).toEqual({ role: 'user', content: SPANISH_QUESTION });
    expect(chat.body.tools.map((t: any) => t.function.name)).toEqual(expect.arrayContaining(['transfer_to_human', 'end_call', 'search_knowledge']));

    // The reply was synthesized in Spanish with ulaw_8000 …
    const tts = eleven.requests.slice(elevenBefore);
    const reply = tts.filter((r) => r.body?.language_code === 'es');
    expect(reply.length).toBeGreaterThanOrEqual(1);
    for (const r of tts) {
      expect(r.query.output_format).toBe('ulaw_8000');
      expect(r.headers['xi-api-key']).toBe('xi-test-cloud');
      expect(r.body.model_id).toBe('eleven_flash_v2_5');
    }
    expect(reply.map((r) => r.body.text).join(' ')).toBe(REPLY_ES.join('').trim());
    // … and what Twilio received is byte for byte what the TTS double streamed (greeting + reply, in order).
    const streamed = Buffer.concat(tts.map((r) => r.streamed));
    expect(Buffer.from(sim.agentAudio).equals(streamed)).toBe(true);
    const agent = turns.filter((t) => t.role === 'agent');
    expect(agent.at(-1)).toMatchObject({ text: REPLY_ES.join('').trim(), language: 'es' });
    // The call's language is written when the server's session ends (then its post-call jobs are enqueued), which may
    // come after the socket closed and the simulated status callback set ended_at.
    const call = await endedCallRow(db, sim.callSid);
    expect(call.language).toBe('es');
  }, 60_000);

  it('outage: ElevenLabs hangs — the first call hears the cached filler, then the fallback (no silence over 2 s); once its breaker is open, the next call goes straight to the fallback', async () => {
    eleven.clearScript();
    openai.script('transcriptions', { kind: 'transcription', text: 'Where is my order?', language: 'english' });
    openai.script('chat', { kind: 'chat', content: ['Your order ', 'ships within two business days.'] });
    // ElevenLabs speaks the greeting, then hangs from the reply on.
    const { sim, gaps, maxSilenceMs } = await callMeasuringSilence('Where is my order?', () => eleven.script({ kind: 'hang' }, 50));
    expect(sim.closeCode).toBe(1000);
    const turns = await db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    const reply = turns.filter((t) => t.role === 'agent').at(-1);
    expect(reply.text).toMatch(/ships within two business days/);
    expect(reply.timings).toMatchObject({ fillerPlayed: true });
    console.log(JSON.stringify({ hang: { firstAudioAfterSpeechMs: Math.round(gaps[0]), maxSilenceMs } }));
    expect(maxSilenceMs).toBeLessThanOrEqual(2000);
    // That one timeout opened ElevenLabs' circuit breaker …
    const state = await ctx.metrics.registry.getSingleMetricAsString('callcenter_provider_circuit_state');
    expect(state).toMatch(/capability="tts",provider="elevenlabs\.tts"\} 2/);
    // … so the next call does not wait for it at all: no request reaches ElevenLabs, no filler is needed.
    const elevenBefore = eleven.requests.length;
    openai.script('transcriptions', { kind: 'transcription', text: 'Where is my order?', language: 'english' });
    openai.script('chat', { kind: 'chat', content: ['Your order ', 'ships within two business days.'] });
    const second = await callMeasuringSilence('Where is my order?');
    expect(eleven.requests.length).toBe(elevenBefore);
    const turns2 = await db('call_turns').where({ call_sid: second.sim.callSid }).orderBy('seq');
    const reply2 = turns2.filter((t) => t.role === 'agent').at(-1);
    expect(reply2.text).toMatch(/ships within two business days/);
    expect(reply2.timings.fillerPlayed).toBeUndefined();
    expect(reply2.timings.ttsFirstByteMs).toBeLessThan(config.resilience.ttsFirstByteTimeoutMs);
    console.log(JSON.stringify({ hangBreakerOpen: { firstAudioAfterSpeechMs: Math.round(second.gaps[0]), maxSilenceMs: second.maxSilenceMs } }));
    eleven.clearScript();
  }, 90_000);

  it('outage: ElevenLabs answers 500 (its breaker open), the call speaks through the fallback, never > 2 s of silence', async () => {
    eleven.script({ kind: 'status', status: 500 }, 50);
    openai.script('transcriptions', { kind: 'transcription', text: 'When are you open on Saturday?', language: 'english' });
    openai.script('chat', { kind: 'chat', content: ['We are open ', 'on Saturday from nine to five.'] });
    const speechBefore = openai.requestsTo('speech').length;
    const { sim, gaps, maxSilenceMs } = await callMeasuringSilence('When are you open on Saturday?');
    expect(sim.closeCode).toBe(1000);
    expect(openai.requestsTo('speech').length).toBeGreaterThan(speechBefore); // the fallback (OpenAI TTS) spoke
    const turns = await db('call_turns').where({ call_sid: sim.callSid }).orderBy('seq');
    expect(turns.filter((t) => t.role === 'agent').map((t) => t.text)).toContain('We are open on Saturday from nine to five.');
    // Endpointing takes its 800 ms, but no silence may last more than 2 s until the reply was heard.
    console.log(JSON.stringify({ outage500: { firstAudioAfterSpeechMs: Math.round(gaps[0]), maxSilenceMs } }));
    expect(maxSilenceMs).toBeLessThanOrEqual(2000);
    eleven.clearScript();
    const fallbacks = await ctx.metrics.registry.getSingleMetricAsString('callcenter_provider_fallbacks_total');
    expect(fallbacks).toMatch(/capability="tts",from="elevenlabs\.tts",to="openai\.tts"\} [1-9]/);
  }, 60_000);

});
