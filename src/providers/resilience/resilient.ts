import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Pcm } from '../../audio/types';
import type { Metrics } from '../../metrics/metrics';
import type {
  AudioChunk,
  ChatRequest,
  Embedder,
  Filter,
  LlmDelta,
  LlmProvider,
  Match,
  SttProvider,
  SynthesizeOptions,
  Transcript,
  TtsProvider,
  VectorItem,
  VectorStore,
} from '../types';
import { errorKind, safeErrorMessage, type Capability } from './errors';
import { retryCall, retryStream, type FailureHook, type RetryPolicy } from './retry';
import { callWithTimeout, streamWithFirstOutputTimeout } from './timeout';

/** Options of the `Resilient*` wrappers. Times in ms. */
export interface ResilienceOptions {
  /** STT: per utterance; LLM: until the first delta; TTS: until the first non-empty audio chunk; embeddings/vector: per call. 0 disables. */
  timeoutMs: number;
  /** Retries of retryable errors (see {@link RetryPolicy}); the other policy fields have sensible defaults. */
  retry: RetryPolicy;
  /** Failed attempts are counted in `providerErrors {capability, provider, kind}`. */
  metrics?: Pick<Metrics, 'providerErrors'>;
  /** Failed attempts are logged at `warn` with provider id, kind and a redacted message (never audio or secrets). */
  logger?: Logger;
}

/** The hook that counts and logs each failed attempt of `provider`. */
function failureHook(capability: Capability, provider: string, o: ResilienceOptions): FailureHook {
  return (err, { attempt, willRetry, delayMs }) => {
    const kind = errorKind(err);
    o.metrics?.providerErrors.inc({ capability, provider, kind });
    o.logger?.warn({ capability, provider, kind, attempt, willRetry, retryInMs: willRetry ? delayMs : undefined, err: safeErrorMessage(err) }, 'provider call failed');
  };
}

const hasAudio = (c: AudioChunk) => c.data.length > 0;

/**
 * STT with a per-utterance timeout and retries (each attempt has its own timeout). Same `id` as the wrapped
 * provider; `warmup`/`close` pass through. Caller aborts reject with `signal.reason`, uncounted.
 * @throws ProviderError (ProviderTimeoutError on timeout) after the last attempt.
 */
export class ResilientStt implements SttProvider {
  readonly id: string;
  private readonly onFailure: FailureHook;
  constructor(readonly inner: SttProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.onFailure = failureHook('stt', inner.id, o);
  }

  transcribe(audio: Pcm, opts: { languageHint?: string; signal: AbortSignal }): Promise<Transcript> {
    const spec = { provider: this.id, what: 'transcription', ms: this.o.timeoutMs };
    return retryCall(this.o.retry, opts.signal, () => callWithTimeout(opts.signal, spec, (signal) => this.inner.transcribe(audio, { ...opts, signal })), this.onFailure);
  }

  async warmup(): Promise<void> {
    await this.inner.warmup?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * TTS with a timeout until the first non-empty audio chunk and retries before any audio was yielded. Same `id`
 * as the wrapped provider. Once audio has started, a failure propagates unchanged.
 */
export class ResilientTts implements TtsProvider {
  readonly id: string;
  private readonly onFailure: FailureHook;
  constructor(readonly inner: TtsProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.onFailure = failureHook('tts', inner.id, o);
  }

  synthesize(text: string, opts: SynthesizeOptions): AsyncIterable<AudioChunk> {
    const spec = { provider: this.id, what: 'first audio', ms: this.o.timeoutMs };
    return retryStream(
      this.o.retry,
      opts.signal,
      () => streamWithFirstOutputTimeout(opts.signal, spec, (signal) => this.inner.synthesize(text, { ...opts, signal }), hasAudio),
      this.onFailure,
      hasAudio,
    );
  }
}

/**
 * LLM with a timeout until the first delta (of any type) and retries before any delta was yielded. Same `id` as
 * the wrapped provider. Once a delta has been yielded, a failure propagates unchanged.
 */
export class ResilientLlm implements LlmProvider {
  readonly id: string;
  private readonly onFailure: FailureHook;
  constructor(readonly inner: LlmProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.onFailure = failureHook('llm', inner.id, o);
  }

  chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<LlmDelta> {
    const spec = { provider: this.id, what: 'first token', ms: this.o.timeoutMs };
    return retryStream(this.o.retry, signal, () => streamWithFirstOutputTimeout(signal, spec, (s) => this.inner.chat(req, s)), this.onFailure);
  }
}

/**
 * A signal that never aborts, for interfaces whose calls take none. Shared by every such call: each one in flight
 * holds one 'abort' listener on it (removed when it settles), so the listener count is the number of concurrent
 * embedding/vector calls, not a leak — Node's limit of 10 (MaxListenersExceededWarning) does not apply to it.
 */
const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);

/**
 * Embedder with a per-call timeout and retries. `Embedder.embed` takes no signal, so a timed-out request is
 * abandoned (its late result ignored), not cancelled. Same `id` and `dimensions` as the wrapped embedder.
 */
export class ResilientEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly onFailure: FailureHook;
  constructor(readonly inner: Embedder, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
    this.onFailure = failureHook('embeddings', inner.id, o);
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    const spec = { provider: this.id, what: 'embedding', ms: this.o.timeoutMs };
    return retryCall(this.o.retry, undefined, () => callWithTimeout(NEVER, spec, () => this.inner.embed(texts)), this.onFailure);
  }
}

/**
 * VectorStore with a per-call timeout and retries (upsert and delete are idempotent, so retrying them is safe).
 * The interface takes no signal, so a timed-out request is abandoned, not cancelled. Same `id` as the wrapped store.
 */
export class ResilientVectorStore implements VectorStore {
  readonly id: string;
  private readonly onFailure: FailureHook;
  constructor(readonly inner: VectorStore, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.onFailure = failureHook('vector', inner.id, o);
  }

  private run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const spec = { provider: this.id, what, ms: this.o.timeoutMs };
    return retryCall(this.o.retry, undefined, () => callWithTimeout(NEVER, spec, fn), this.onFailure);
  }

  upsert(ns: string, items: VectorItem[]): Promise<void> {
    return this.run('upsert', () => this.inner.upsert(ns, items));
  }

  query(ns: string, vector: Float32Array, k: number, filter?: Filter): Promise<Match[]> {
    return this.run('query', () => this.inner.query(ns, vector, k, filter));
  }

  deleteByFilter(ns: string, filter: Filter): Promise<void> {
    return this.run('delete', () => this.inner.deleteByFilter(ns, filter));
  }
}
