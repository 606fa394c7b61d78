import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Pcm } from '../../audio/types';
import type { Metrics } from '../../metrics/metrics';
import type {
  AudioChunk,
  CallOptions,
  ChatRequest,
  Embedder,
  Filter,
  LlmDelta,
  LlmProvider,
  Match,
  SttOptions,
  SttProvider,
  SynthesizeOptions,
  Transcript,
  TtsProvider,
  VectorItem,
  VectorStore,
} from '../types';
import { CircuitOpenError, ProviderBreaker, type BreakerOptions } from './breaker';
import { errorKind, safeErrorMessage, type Capability } from './errors';
import { retryCall, retryStream, type FailureHook, type RetryPolicy } from './retry';
import { callWithTimeout, streamWithFirstOutputTimeout } from './timeout';

/** Options of the `Resilient*` wrappers. Times in ms. */
export interface ResilienceOptions {
  /** STT: per utterance; LLM: until the first delta; TTS: until the first non-empty audio chunk; embeddings/vector: per call. 0 disables. */
  timeoutMs: number;
  /** Retries of retryable errors (see {@link RetryPolicy}); the other policy fields have sensible defaults. */
  retry: RetryPolicy;
  /**
   * Circuit breaker of this provider (see {@link ProviderBreaker}); each attempt (retries included, timeouts
   * counted) goes through it. Options: a breaker of its own; a `ProviderBreaker`: that one, shared with other
   * wrappers of the same provider (one breaker per provider, whatever chain it serves in). Absent: no breaker.
   */
  breaker?: BreakerOptions | ProviderBreaker;
  /**
   * Failed attempts are counted in `providerErrors {capability, provider, kind}` (calls skipped by an open circuit
   * are not: they are no attempt); the breaker's state goes to `providerCircuitState`.
   */
  metrics?: Pick<Metrics, 'providerErrors'> & Partial<Pick<Metrics, 'providerCircuitState'>>;
  /** Failed attempts are logged at `warn` with provider id, kind and a redacted message (never audio or secrets). */
  logger?: Logger;
}

/** The hook that counts and logs each failed attempt of `provider`. */
function failureHook(capability: Capability, provider: string, o: ResilienceOptions): FailureHook {
  return (err, { attempt, willRetry, delayMs }) => {
    if (err instanceof CircuitOpenError) return; // skipped, not attempted; the breaker logged its opening once
    const kind = errorKind(err);
    o.metrics?.providerErrors.inc({ capability, provider, kind });
    o.logger?.warn({ capability, provider, kind, attempt, willRetry, retryInMs: willRetry ? delayMs : undefined, err: safeErrorMessage(err) }, 'provider call failed');
  };
}

/**
 * What every wrapper shares: the failure hook and the optional breaker. `call`/`stream` run one attempt through
 * the breaker (or directly without one).
 */
class Guard {
  readonly onFailure: FailureHook;
  readonly breaker?: ProviderBreaker;
  constructor(capability: Capability, provider: string, o: ResilienceOptions) {
    this.onFailure = failureHook(capability, provider, o);
    if (o.breaker instanceof ProviderBreaker) this.breaker = o.breaker;
    else if (o.breaker) this.breaker = new ProviderBreaker(capability, provider, o.breaker, { metrics: o.metrics?.providerCircuitState ? { providerCircuitState: o.metrics.providerCircuitState } : undefined, logger: o.logger });
  }

  call<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return this.breaker ? this.breaker.call(signal, fn) : fn();
  }

  stream<T>(signal: AbortSignal, fn: () => AsyncIterable<T>, isOutput?: (item: T) => boolean): AsyncIterable<T> {
    return this.breaker ? this.breaker.stream(signal, fn, isOutput) : fn();
  }
}

const hasAudio = (c: AudioChunk) => c.data.length > 0;

/**
 * STT with a per-utterance timeout, retries (each attempt has its own timeout) and an optional circuit breaker.
 * Same `id` as the wrapped provider; `warmup`/`close` pass through. Caller aborts reject with `signal.reason`,
 * uncounted. @throws ProviderError (ProviderTimeoutError on timeout; CircuitOpenError at once while the circuit
 * is open) after the last attempt.
 */
export class ResilientStt implements SttProvider {
  readonly id: string;
  private readonly g: Guard;
  constructor(readonly inner: SttProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.g = new Guard('stt', inner.id, o);
  }

  /** The provider's circuit breaker, when configured. */
  get breaker(): ProviderBreaker | undefined {
    return this.g.breaker;
  }

  transcribe(audio: Pcm, opts: SttOptions): Promise<Transcript> {
    const spec = { provider: this.id, what: 'transcription', ms: this.o.timeoutMs };
    return retryCall(
      this.o.retry,
      opts.signal,
      () => this.g.call(opts.signal, () => callWithTimeout(opts.signal, spec, (signal) => this.inner.transcribe(audio, { ...opts, signal }))),
      this.g.onFailure,
    );
  }

  async warmup(): Promise<void> {
    await this.inner.warmup?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * TTS with a timeout until the first non-empty audio chunk, retries before any audio was yielded and an optional
 * circuit breaker (an attempt succeeds for it at its first audio). Same `id` as the wrapped provider. Once audio
 * has started, a failure propagates unchanged.
 */
export class ResilientTts implements TtsProvider {
  readonly id: string;
  private readonly g: Guard;
  constructor(readonly inner: TtsProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.g = new Guard('tts', inner.id, o);
  }

  /** The provider's circuit breaker, when configured. */
  get breaker(): ProviderBreaker | undefined {
    return this.g.breaker;
  }

  synthesize(text: string, opts: SynthesizeOptions): AsyncIterable<AudioChunk> {
    const spec = { provider: this.id, what: 'first audio', ms: this.o.timeoutMs };
    return retryStream(
      this.o.retry,
      opts.signal,
      () => this.g.stream(opts.signal, () => streamWithFirstOutputTimeout(opts.signal, spec, (signal) => this.inner.synthesize(text, { ...opts, signal }), hasAudio), hasAudio),
      this.g.onFailure,
      hasAudio,
    );
  }
}

/**
 * LLM with a timeout until the first delta (of any type), retries before any delta was yielded and an optional
 * circuit breaker (an attempt succeeds for it at its first delta). Same `id` as the wrapped provider. Once a delta
 * has been yielded, a failure propagates unchanged.
 */
export class ResilientLlm implements LlmProvider {
  readonly id: string;
  private readonly g: Guard;
  constructor(readonly inner: LlmProvider, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.g = new Guard('llm', inner.id, o);
  }

  /** The provider's circuit breaker, when configured. */
  get breaker(): ProviderBreaker | undefined {
    return this.g.breaker;
  }

  chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<LlmDelta> {
    const spec = { provider: this.id, what: 'first token', ms: this.o.timeoutMs };
    return retryStream(this.o.retry, signal, () => this.g.stream(signal, () => streamWithFirstOutputTimeout(signal, spec, (s) => this.inner.chat(req, s))), this.g.onFailure);
  }
}

/**
 * A signal that never aborts, for calls made without one. Shared by every such call: each one in flight holds one
 * 'abort' listener on it (removed when it settles), so the listener count is the number of concurrent
 * embedding/vector calls, not a leak — Node's limit of 10 (MaxListenersExceededWarning) does not apply to it.
 */
const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);

/**
 * Embedder with a per-call timeout, retries and an optional circuit breaker. The caller's `o.signal` reaches the
 * wrapped embedder (chained with the timeout: a timed-out request is cancelled too); an abort rejects at once
 * with `signal.reason`, is not retried and not counted. Same `id` and `dimensions` as the wrapped embedder.
 */
export class ResilientEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly g: Guard;
  constructor(readonly inner: Embedder, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
    this.g = new Guard('embeddings', inner.id, o);
  }

  /** The provider's circuit breaker, when configured. */
  get breaker(): ProviderBreaker | undefined {
    return this.g.breaker;
  }

  embed(texts: string[], o: CallOptions = {}): Promise<Float32Array[]> {
    const spec = { provider: this.id, what: 'embedding', ms: this.o.timeoutMs };
    const caller = o.signal ?? NEVER;
    return retryCall(this.o.retry, o.signal, () => this.g.call(o.signal, () => callWithTimeout(caller, spec, (signal) => this.inner.embed(texts, { signal }))), this.g.onFailure);
  }
}

/**
 * VectorStore with a per-call timeout, retries (upsert and delete are idempotent, so retrying them is safe) and an
 * optional circuit breaker. The caller's `o.signal` reaches the wrapped store (chained with the timeout, so a
 * timed-out query is cancelled too); an abort rejects at once with `signal.reason`, is not retried and not
 * counted. Same `id` as the wrapped store.
 */
export class ResilientVectorStore implements VectorStore {
  readonly id: string;
  private readonly g: Guard;
  constructor(readonly inner: VectorStore, private readonly o: ResilienceOptions) {
    this.id = inner.id;
    this.g = new Guard('vector', inner.id, o);
  }

  /** The provider's circuit breaker, when configured. */
  get breaker(): ProviderBreaker | undefined {
    return this.g.breaker;
  }

  private run<T>(what: string, caller: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const spec = { provider: this.id, what, ms: this.o.timeoutMs };
    return retryCall(this.o.retry, caller, () => this.g.call(caller, () => callWithTimeout(caller ?? NEVER, spec, fn)), this.g.onFailure);
  }

  upsert(ns: string, items: VectorItem[], o: CallOptions = {}): Promise<void> {
    return this.run('upsert', o.signal, (signal) => this.inner.upsert(ns, items, { signal }));
  }

  query(ns: string, vector: Float32Array, k: number, filter?: Filter, o: CallOptions = {}): Promise<Match[]> {
    return this.run('query', o.signal, (signal) => this.inner.query(ns, vector, k, filter, { signal }));
  }

  deleteByFilter(ns: string, filter: Filter, o: CallOptions = {}): Promise<void> {
    return this.run('delete', o.signal, (signal) => this.inner.deleteByFilter(ns, filter, { signal }));
  }
}
