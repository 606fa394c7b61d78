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
import type { ProviderBreaker } from './resilience/breaker';
import { agentChain, ChainCache } from './chains';
import { MeteredLlm, MeteredStt, MeteredTts } from './metered';
import type { AgentProviders } from '../domain/agent-settings';

export interface Providers {
  /** The server's default chains (`*_PROVIDER` then `*_FALLBACK`). */
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  embedder: Embedder;
  vectors: VectorStore;
  /**
   * The STT/LLM/TTS chains for an agent's provider choices (its `providers`; see {@link agentChain}): a capability
   * absent from the answer is served by the server's default chain (no choice, the server's own primary, or a choice
   * this server cannot use — listed in `ignored`). Chains are built on first use and cached; breakers are per provider.
   */
  forAgent(choice: AgentProviders): AgentProviderSelection;
  /** Closes every STT engine built (the default chain's and the agents'). */
  close(): Promise<void>;
}

/** What {@link Providers.forAgent} picked for an agent. */
export interface AgentProviderSelection {
  stt?: SttProvider;
  tts?: TtsProvider;
  llm?: LlmProvider;
  /** Choices the server cannot use (e.g. `{ capability: 'tts', provider: 'elevenlabs', reason: 'ELEVENLABS_API_KEY is not set' }`). */
  ignored: Array<{ capability: 'stt' | 'tts' | 'llm'; provider: string; reason: string }>;
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
      // A decode may take the STT_TIMEOUT_MS the resilience wrapper allows (longer audio: 3 × its duration) rather than
      // being abandoned sooner by the pool's own default on a busy host.
      return new MoonshineStt({ size: c.local.sttModel, concurrency: c.local.sttConcurrency, modelDir: c.local.sttModelDir, logger: d.logger, requestTimeoutMs: (audioMs) => Math.max(sdkTimeout(c.resilience.sttTimeoutMs), 3 * audioMs) });
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
 * - Per agent: `forAgent` builds the chain an agent's `providers` choice asks for on its first call and caches it;
 *   every provider exists once and keeps its one breaker, whichever chains it serves in (see {@link ChainCache}).
 * - Usage: every provider is wrapped in a `Metered*` layer under its resilience layer (providers/metered.ts), so the
 *   call's usage meter (`usage` in the request options) hears what the provider that actually served consumed.
 * Failures are counted in `metrics.providerErrors` / `metrics.providerFallbacks` and logged without secrets.
 * @throws Error when a chosen cloud provider lacks its key (loadConfig already rejects such configs).
 */
export function buildProviders(config: Readonly<Config>, d: ProviderDeps): Providers {
  const r = config.resilience;
  /** `hasFallback`: a provider followed by another in its chain moves on after a timeout instead of retrying it. */
  const opts = (timeoutMs: number, hasFallback = false, breaker?: ProviderBreaker): ResilienceOptions => ({
    timeoutMs,
    retry: { maxRetries: r.maxRetries, retryTimeouts: !hasFallback },
    breaker: breaker ?? { failures: r.breakerFailures, halfOpenMs: r.breakerHalfOpenMs },
    metrics: d.metrics,
    logger: d.logger,
  });
  const fallbackOpts = { metrics: d.metrics, logger: d.logger };
  const breaker = { options: { failures: r.breakerFailures, halfOpenMs: r.breakerHalfOpenMs }, deps: { metrics: d.metrics, logger: d.logger } };
  const p = config.providers;
  const localEmbedder = new LocalHashEmbedder();

  const stts = new ChainCache<SttChoice, SttProvider>({
    capability: 'stt', breaker, make: (ch) => new MeteredStt(makeStt(ch, config, d)), compose: (ps) => new FallbackStt(ps, fallbackOpts),
    wrap: (x, b, hasFallback) => new ResilientStt(x, opts(r.sttTimeoutMs, hasFallback, b)),
  });
  const ttss = new ChainCache<TtsChoice, TtsProvider>({
    capability: 'tts', breaker, make: (ch) => new MeteredTts(makeTts(ch, config, d)), compose: (ps) => new FallbackTts(ps, fallbackOpts),
    wrap: (x, b, hasFallback) => new ResilientTts(x, opts(r.ttsFirstByteTimeoutMs, hasFallback, b)),
  });
  const llms = new ChainCache<LlmChoice, LlmProvider>({
    capability: 'llm', breaker, make: (ch) => new MeteredLlm(makeLlm(ch, config, localEmbedder)), compose: (ps) => new FallbackLlm(ps, fallbackOpts),
    wrap: (x, b, hasFallback) => new ResilientLlm(x, opts(r.llmFirstTokenTimeoutMs, hasFallback, b)),
  });
  const usable = (c: string) => (c === 'openai' ? !!config.openai.apiKey : c === 'elevenlabs' ? !!config.elevenlabs.apiKey : true);
  const keyOf = (c: string) => (c === 'elevenlabs' ? 'ELEVENLABS_API_KEY' : 'OPENAI_API_KEY');

  const forAgent = (choice: AgentProviders): AgentProviderSelection => {
    const out: AgentProviderSelection = { ignored: [] };
    const pick = <C extends string, P extends { id: string }>(capability: 'stt' | 'tts' | 'llm', c: C | undefined, primary: C, fallback: C[], cache: ChainCache<C, P>): P | undefined => {
      const a = agentChain(c, { primary, fallback }, usable);
      if (a.kind === 'unusable') out.ignored.push({ capability, provider: a.choice, reason: `${keyOf(a.choice)} is not set` });
      return a.kind === 'chain' ? cache.chain(a.chain) : undefined;
    };
    const stt = pick('stt', choice.stt, p.stt, p.fallback.stt, stts);
    const tts = pick('tts', choice.tts, p.tts, p.fallback.tts, ttss);
    const llm = pick('llm', choice.llm, p.llm, p.fallback.llm, llms);
    return { ...out, ...(stt ? { stt } : {}), ...(tts ? { tts } : {}), ...(llm ? { llm } : {}) };
  };

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
    stt: stts.chain([p.stt, ...p.fallback.stt]),
    tts: ttss.chain([p.tts, ...p.fallback.tts]),
    llm: llms.chain([p.llm, ...p.fallback.llm]),
    embedder: new ResilientEmbedder(embedder, opts(r.embeddingsTimeoutMs)),
    vectors: new ResilientVectorStore(vectors, opts(r.vectorTimeoutMs)),
    forAgent,
    close: async () => {
      await Promise.allSettled(stts.built().map((x) => x.close?.()));
    },
  };
}
