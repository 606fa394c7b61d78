import child_process from 'child_process';
import { MeteredLlm } from '../../../src/providers/metered';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig } from '../../../src/config';
import { buildProviders } from '../../../src/providers/registry';
import { CircuitOpenError, FallbackLlm, FallbackStt, FallbackTts, ProviderTimeoutError, ResilientLlm, ResilientStt } from '../../../src/providers/resilience';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { LocalResponder } from '../../../src/providers/llm/local-responder';
import { listen } from '../../helpers/http';
import { collect, counterValue, testMetrics, utterance } from './helpers';

const logger = pino({ level: 'silent' });
const db = {} as Knex; // construction never queries
const build = (env: Record<string, string>, metrics = testMetrics()) => buildProviders(loadConfig({ NODE_ENV: 'test', ...env }), { db, logger, metrics });
const ids = (p: ReturnType<typeof build>) => ({ stt: p.stt.id, tts: p.tts.id, llm: p.llm.id, embedder: p.embedder.id, vectors: p.vectors.id });

describe('buildProviders', () => {
  it('builds the offline providers by default, without fallback chains', () => {
    const p = build({});
    expect(ids(p)).toEqual({ stt: 'local.moonshine-base', tts: 'local.espeak-ng', llm: 'local.responder', embedder: 'local.hash', vectors: 'postgres' });
    expect(p.embedder.dimensions).toBe(384);
    expect(p.stt).not.toBeInstanceOf(FallbackStt);
  });

  it('uses OpenAI when its key is present, with the local providers as fallbacks', () => {
    const p = build({ OPENAI_API_KEY: 'sk-test-key-123456' });
    expect(ids(p)).toEqual({
      stt: 'openai.stt>local.moonshine-base',
      tts: 'openai.tts>local.espeak-ng',
      llm: 'openai.chat>local.responder',
      embedder: 'openai.embeddings',
      vectors: 'postgres',
    });
    expect(p.embedder.dimensions).toBe(1536);
    expect(p.stt).toBeInstanceOf(FallbackStt);
    expect((p.llm as FallbackLlm).providers.map((x) => x.id)).toEqual(['openai.chat', 'local.responder']);
  });

  it('chains TTS ElevenLabs → OpenAI → local', () => {
    const p = build({ OPENAI_API_KEY: 'sk-test-key-123456', ELEVENLABS_API_KEY: 'xi-test-key' });
    expect(p.tts).toBeInstanceOf(FallbackTts);
    expect((p.tts as FallbackTts).providers.map((x) => x.id)).toEqual(['elevenlabs.tts', 'openai.tts', 'local.espeak-ng']);
  });

  it('follows explicit *_PROVIDER and *_FALLBACK choices', () => {
    const p = build({ OPENAI_API_KEY: 'sk-test-key-123456', ELEVENLABS_API_KEY: 'xi-test-key', TTS_FALLBACK: 'local', STT_FALLBACK: 'none', LLM_PROVIDER: 'local', EMBEDDINGS_PROVIDER: 'local' });
    expect(ids(p)).toEqual({ stt: 'openai.stt', tts: 'elevenlabs.tts>local.espeak-ng', llm: 'local.responder>openai.chat', embedder: 'local.hash', vectors: 'postgres' });
  });

  it('gives the fake providers their latencies from config', () => {
    const p = build({ STT_PROVIDER: 'fake', TTS_PROVIDER: 'fake', LLM_PROVIDER: 'fake', FAKE_LLM_FIRST_TOKEN_MS: '7', FAKE_LLM_PER_TOKEN_MS: '5' });
    expect(ids(p)).toMatchObject({ stt: 'fake.stt', tts: 'fake.tts', llm: 'fake.llm' });
    const inner = ((p.llm as ResilientLlm).inner as MeteredLlm).inner;
    expect(inner).toBeInstanceOf(FakeLlm);
    expect((inner as unknown as { o: object }).o).toEqual({ firstTokenMs: 7, perTokenMs: 5 });
  });

  it('wraps providers with the configured timeouts and counts failures in the given metrics', async () => {
    const metrics = testMetrics();
    const p = build({ STT_PROVIDER: 'fake', FAKE_STT_MS: '5000', STT_TIMEOUT_MS: '20', PROVIDER_MAX_RETRIES: '0' }, metrics);
    await expect(p.stt.transcribe(utterance(), { signal: new AbortController().signal })).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(await counterValue(metrics.providerErrors, { capability: 'stt', provider: 'fake.stt', kind: 'timeout' })).toBe(1);
  });

  it('gives every provider a circuit breaker from BREAKER_FAILURES / BREAKER_HALF_OPEN_MS, reported in the gauge', async () => {
    const metrics = testMetrics();
    const p = build({ STT_PROVIDER: 'fake', FAKE_STT_MS: '5000', STT_TIMEOUT_MS: '20', PROVIDER_MAX_RETRIES: '0', BREAKER_FAILURES: '1', BREAKER_HALF_OPEN_MS: '60000' }, metrics);
    const signal = new AbortController().signal;
    await expect(p.stt.transcribe(utterance(), { signal })).rejects.toBeInstanceOf(ProviderTimeoutError);
    await expect(p.stt.transcribe(utterance(), { signal })).rejects.toBeInstanceOf(CircuitOpenError);
    expect((p.stt as ResilientStt).breaker?.state).toBe('open');
    const { values } = await metrics.providerCircuitState.get();
    expect(values.find((v) => v.labels.capability === 'stt' && v.labels.provider === 'fake.stt')?.value).toBe(2);
    expect(values.find((v) => v.labels.capability === 'vector' && v.labels.provider === 'postgres')?.value).toBe(0);
  });

  it('moves down the chain after a timeout instead of retrying it, and counts the fallback', async () => {
    const metrics = testMetrics();
    const p = build({ LLM_PROVIDER: 'fake', LLM_FALLBACK: 'local', FAKE_LLM_FIRST_TOKEN_MS: '5000', LLM_FIRST_TOKEN_TIMEOUT_MS: '20', PROVIDER_MAX_RETRIES: '2' }, metrics);
    expect(p.llm.id).toBe('fake.llm>local.responder');
    const deltas = await collect(p.llm.chat({ system: '', messages: [{ role: 'user', content: 'what are your opening hours' }], passages: [], language: 'en', intents: ['hours'] }, new AbortController().signal));
    expect(deltas[0]).toMatchObject({ type: 'intent', intent: 'hours' });
    expect(await counterValue(metrics.providerErrors, { capability: 'llm', provider: 'fake.llm', kind: 'timeout' })).toBe(1);
    expect(await counterValue(metrics.providerFallbacks, { capability: 'llm', from: 'fake.llm', to: 'local.responder' })).toBe(1);
  });

  it('keeps the offline responder working when the knowledge base uses OpenAI embeddings', async () => {
    const p = build({ OPENAI_API_KEY: 'sk-test-key-123456', LLM_PROVIDER: 'local', LLM_FALLBACK: 'none' });
    expect(p.embedder.id).toBe('openai.embeddings');
    expect(((p.llm as ResilientLlm).inner as MeteredLlm).inner).toBeInstanceOf(LocalResponder);
    const deltas = await collect(p.llm.chat({ system: '', messages: [{ role: 'user', content: 'I want a refund please' }], passages: [], language: 'en', intents: ['refund', 'hours'] }, new AbortController().signal));
    expect(deltas[0]).toMatchObject({ type: 'intent', intent: 'refund' });
  });

  it('touches no network and starts no process while constructing', async () => {
    let requests = 0;
    const server = await listen((_req, res) => {
      requests++;
      res.statusCode = 500;
      res.end();
    });
    const spawn = jest.spyOn(child_process, 'spawn');
    const execFile = jest.spyOn(child_process, 'execFile');
    try {
      const p = build({
        OPENAI_API_KEY: 'sk-test-key-123456',
        OPENAI_BASE_URL: `${server.base}/v1`,
        ELEVENLABS_API_KEY: 'xi-test-key',
        ELEVENLABS_BASE_URL: server.base,
        PINECONE_API_KEY: 'pc-test-key',
        PINECONE_INDEX_HOST: server.base,
      });
      expect(p.vectors.id).toBe('pinecone');
      await new Promise((r) => setTimeout(r, 50));
      expect(requests).toBe(0);
      expect(spawn).not.toHaveBeenCalled();
      expect(execFile).not.toHaveBeenCalled();
    } finally {
      spawn.mockRestore();
      execFile.mockRestore();
      await server.close();
    }
  });
});
