import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config, LlmChoice, SttChoice, TtsChoice } from '../config';
import type { Metrics } from '../metrics/metrics';
import type { Embedder, LlmProvider, SttProvider, TtsProvider, VectorStore } from './types';
import { MoonshineStt } from './stt/moonshine';
import { OpenAiWhisperStt } from './stt/openai-whisper';
import { FakeStt } from './stt/fake';
import { LocalEspeakTts } from './tts/local-espeak';
import { ElevenLabsTts } from './tts/elevenlabs';
import { OpenAiTts } from './tts/openai-tts';
import { FakeTts } from './tts/fake';
import { LocalResponder } from './llm/local-responder';
import { OpenAiChatLlm } from './llm/openai-chat';
import { FakeLlm } from './llm/fake';
import { LocalHashEmbedder } from './embeddings/local-hash';
import { OpenAiEmbedder } from './embeddings/openai';
import { PostgresVectorStore } from './vector/postgres';
import { PineconeVectorStore } from './vector/pinecone';
import { FallbackLlm, FallbackStt, FallbackTts } from './resilience/fallback';
import { ResilientEmbedder, ResilientLlm, ResilientStt, ResilientTts, ResilientVectorStore, type ResilienceOptions } from './resilience/resilient';

export interface Providers {
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  embedder: Embedder;
  vectors: VectorStore;
}

/** Dependencies of {@link buildProviders}. Without `metrics`, provider failures are only logged. */
export interface ProviderDeps {
  db: Knex;
  logger: Logger;
  metrics?: Metrics;
}

/** SDK-level request timeout (ms) for a resilience timeout that may be 0 (= disabled): the SDKs need a positive value. */
const sdkTimeout = (ms: number) => (ms > 0 ? ms : 600_000);

/** The key of a cloud provider; config validation guarantees it for every chosen provider, this guards direct use. */
function need(value: string | undefined, what: string): string {
  if (!value) throw new Error(`buildProviders: ${what} is required for the chosen provider`);
  return value;
}

function makeStt(choice: SttChoice, c: Readonly<Config>, d: ProviderDeps): SttProvider {
  switch (choice) {
    case 'openai':
      return new OpenAiWhisperStt({ apiKey: need(c.openai.apiKey, 'OPENAI_API_KEY'), baseURL: c.openai.sttBaseUrl, timeoutMs: sdkTimeout(c.resilience.sttTimeoutMs), model: c.openai.sttModel });
    case 'local':
      return new MoonshineStt({ size: c.local.sttModel, concurrency: c.local.sttConcurrency, modelDir: c.local.sttModelDir, logger: d.logger });
    case 'fake':
      return new FakeStt({ latencyMs: c.fake.sttMs, respond: () => c.fake.sttText, language: 'en' });
  }
}

function makeTts(choice: TtsChoice, c: Readonly<Config>, d: ProviderDeps): TtsProvider {
  switch (choice) {
    case 'elevenlabs':
      return new ElevenLabsTts({
        apiKey: need(c.elevenlabs.apiKey, 'ELEVENLABS_API_KEY'),
        baseUrl: c.elevenlabs.baseUrl,
        model: c.elevenlabs.model,
        defaultVoiceId: c.elevenlabs.defaultVoiceId,
        firstByteTimeoutMs: sdkTimeout(c.resilience.ttsFirstByteTimeoutMs),
      });
    case 'openai':
      return new OpenAiTts({
        apiKey: need(c.openai.apiKey, 'OPENAI_API_KEY'),
        baseURL: c.openai.baseUrl,
        timeoutMs: sdkTimeout(c.resilience.ttsFirstByteTimeoutMs),
        model: c.openai.ttsModel,
        voice: c.openai.ttsVoice,
      });
    case 'local':
      return new LocalEspeakTts({ bin: c.local.espeakBin, logger: d.logger });
    case 'fake':
      return new FakeTts({ firstByteMs: c.fake.ttsFirstByteMs });
  }
}

function makeLlm(choice: LlmChoice, c: Readonly<Config>, localEmbedder: LocalHashEmbedder): LlmProvider {
  switch (choice) {
    case 'openai':
      return new OpenAiChatLlm({ apiKey: need(c.openai.apiKey, 'OPENAI_API_KEY'), baseURL: c.openai.llmBaseUrl, timeoutMs: sdkTimeout(c.resilience.llmFirstTokenTimeoutMs), model: c.openai.llmModel });
    case 'local':
      // The offline responder compares the question with its intent examples using the local hashing embedder,
      // whatever embedder the knowledge base uses (passages arrive already scored by the retriever).
      return new LocalResponder({ embedder: localEmbedder });
    case 'fake':
      return new FakeLlm({ firstTokenMs: c.fake.llmFirstTokenMs, perTokenMs: c.fake.llmPerTokenMs });
  }
}

/**
 * Builds the providers of every capability from `config.providers` (the `*_PROVIDER` choices and `*_FALLBACK`
 * chains). Providers get typed options here and never read the environment themselves; constructing them touches
 * no network and starts no process.
 *
 * - STT, TTS, LLM: the primary followed by `config.providers.fallback.<capability>`, each wrapped in a
 *   `Resilient*` provider (timeout from `config.resilience`: STT per utterance, LLM until the first delta, TTS until
 *   the first audio; `maxRetries` retries of retryable errors — except that a provider with a fallback after it
 *   does not retry a timeout but moves on: a phone caller cannot wait two timeouts), composed into a `Fallback*`
 *   provider when the chain has more than one entry (its `id` is the chain, e.g. `elevenlabs.tts>openai.tts>local.espeak-ng`).
 * - Embeddings and vector store: one provider each with a per-call timeout and retries, no fallback (a different
 *   embedder would produce vectors of another space than the stored index).
 * Every provider has its own circuit breaker (`config.resilience.breakerFailures` consecutive failures open it
 * for `breakerHalfOpenMs`; while open, calls skip it at once so the chain moves on without waiting); its state is
 * in `metrics.providerCircuitState`. Providers are process-wide, so one breaker serves every call.
 * Failures are counted in `metrics.providerErrors` / `metrics.providerFallbacks` and logged without secrets.
 * @throws Error when a chosen cloud provider lacks its key (loadConfig already rejects such configs).
 */
export function buildProviders(config: Readonly<Config>, d: ProviderDeps): Providers {
  const r = config.resilience;
  /** `hasFallback`: a provider followed by another in its chain moves on after a timeout instead of retrying it. */
  const opts = (timeoutMs: number, hasFallback = false): ResilienceOptions => ({
    timeoutMs,
    retry: { maxRetries: r.maxRetries, retryTimeouts: !hasFallback },
    breaker: { failures: r.breakerFailures, halfOpenMs: r.breakerHalfOpenMs },
    metrics: d.metrics,
    logger: d.logger,
  });
  const fallbackOpts = { metrics: d.metrics, logger: d.logger };
  const p = config.providers;
  const localEmbedder = new LocalHashEmbedder();

  const sttChain = [p.stt, ...p.fallback.stt];
  const ttsChain = [p.tts, ...p.fallback.tts];
  const llmChain = [p.llm, ...p.fallback.llm];
  const stts = sttChain.map((ch, i) => new ResilientStt(makeStt(ch, config, d), opts(r.sttTimeoutMs, i < sttChain.length - 1)));
  const ttss = ttsChain.map((ch, i) => new ResilientTts(makeTts(ch, config, d), opts(r.ttsFirstByteTimeoutMs, i < ttsChain.length - 1)));
  const llms = llmChain.map((ch, i) => new ResilientLlm(makeLlm(ch, config, localEmbedder), opts(r.llmFirstTokenTimeoutMs, i < llmChain.length - 1)));

  const embedder: Embedder =
    p.embeddings === 'openai'
      ? new OpenAiEmbedder({ apiKey: need(config.openai.apiKey, 'OPENAI_API_KEY'), baseURL: config.openai.baseUrl, timeoutMs: sdkTimeout(r.embeddingsTimeoutMs), model: config.openai.embeddingsModel })
      : localEmbedder;
  const vectors: VectorStore =
    p.vector === 'pinecone'
      ? new PineconeVectorStore({
          apiKey: need(config.pinecone.apiKey, 'PINECONE_API_KEY'),
          indexHost: need(config.pinecone.indexHost, 'PINECONE_INDEX_HOST'),
          timeoutMs: sdkTimeout(r.vectorTimeoutMs),
        })
      : new PostgresVectorStore(d.db);

  return {
    stt: stts.length > 1 ? new FallbackStt(stts, fallbackOpts) : stts[0],
    tts: ttss.length > 1 ? new FallbackTts(ttss, fallbackOpts) : ttss[0],
    llm: llms.length > 1 ? new FallbackLlm(llms, fallbackOpts) : llms[0],
    embedder: new ResilientEmbedder(embedder, opts(r.embeddingsTimeoutMs)),
    vectors: new ResilientVectorStore(vectors, opts(r.vectorTimeoutMs)),
  };
}
