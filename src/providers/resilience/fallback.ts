import type { Logger } from 'pino';
import type { Pcm } from '../../audio/types';
import type { Metrics } from '../../metrics/metrics';
import type { AudioChunk, ChatRequest, LlmDelta, LlmProvider, SttOptions, SttProvider, SynthesizeOptions, Transcript, TtsProvider } from '../types';
import { CircuitOpenError } from './breaker';
import { errorKind, safeErrorMessage, type Capability } from './errors';

/** Options of the `Fallback*` providers. */
export interface FallbackOptions {
  /** Requests served by provider i > 0 are counted in `providerFallbacks {capability, from: providers[i-1].id, to}`. */
  metrics?: Pick<Metrics, 'providerFallbacks'>;
  /** Moving down the chain is logged at `warn` with both provider ids and a redacted error message. */
  logger?: Logger;
}

/** `a>b>c`: the id of a chain. */
const chainId = (providers: ReadonlyArray<{ id: string }>) => providers.map((p) => p.id).join('>');

/**
 * Shared chain walking. `attempt(p)` runs one provider and reports through `started()` when its first output
 * went out; failures before that move to the next provider, failures after propagate. The caller's abort
 * propagates as `signal.reason` and never moves down the chain. After the last provider fails, its error is thrown.
 */
class Chain<P extends { id: string }> {
  readonly id: string;
  constructor(
    private readonly capability: Capability,
    readonly providers: readonly P[],
    private readonly o: FallbackOptions,
  ) {
    if (!providers.length) throw new Error(`Fallback ${capability}: needs at least one provider`);
    this.id = chainId(providers);
  }

  served(i: number): void {
    if (i > 0) this.o.metrics?.providerFallbacks.inc({ capability: this.capability, from: this.providers[i - 1].id, to: this.providers[i].id });
  }

  /**
   * Streams from the first provider that produces output: a failure before its first output item (`isOutput`)
   * moves to the next provider; after it, the failure propagates.
   */
  async *stream<T>(signal: AbortSignal, run: (p: P) => AsyncIterable<T>, isOutput: (item: T) => boolean): AsyncGenerator<T> {
    for (let i = 0; ; i++) {
      signal.throwIfAborted();
      let started = false;
      try {
        for await (const item of run(this.providers[i])) {
          if (!started && isOutput(item)) {
            started = true;
            this.served(i);
          }
          yield item;
        }
        if (!started) this.served(i);
        return;
      } catch (err) {
        this.failed(i, err, signal, started);
      }
    }
  }

  /** Returns normally when provider i's failure should move on to i+1; throws otherwise. */
  failed(i: number, err: unknown, signal: AbortSignal, started: boolean): void {
    if (signal.aborted) throw signal.reason;
    const from = this.providers[i].id;
    if (started || i === this.providers.length - 1) {
      const entry = { capability: this.capability, provider: from, kind: errorKind(err), afterOutput: started, err: safeErrorMessage(err) };
      if (err instanceof CircuitOpenError) this.o.logger?.debug(entry, 'provider chain failed: last provider skipped (circuit open)');
      else this.o.logger?.warn(entry, 'provider chain failed');
      throw err;
    }
    const to = this.providers[i + 1].id;
    // An open circuit was logged once when it opened; skipping it on every call is routine.
    if (err instanceof CircuitOpenError) this.o.logger?.debug({ capability: this.capability, from, to }, 'provider circuit open; falling back');
    else this.o.logger?.warn({ capability: this.capability, from, to, kind: errorKind(err), err: safeErrorMessage(err) }, 'provider failed; falling back');
  }
}

/**
 * An {@link SttProvider} over an ordered chain: each utterance goes to the first provider; on failure it is
 * transcribed by the next, and so on. Wrap each provider with {@link ResilientStt} first (timeouts/retries).
 * `id` is the chain (`openai.whisper>local.moonshine-base`); `warmup` warms every provider in parallel and rejects
 * with the first failure after all have finished; `close` closes all.
 */
export class FallbackStt implements SttProvider {
  readonly id: string;
  private readonly chain: Chain<SttProvider>;
  constructor(readonly providers: readonly SttProvider[], o: FallbackOptions = {}) {
    this.chain = new Chain('stt', providers, o);
    this.id = this.chain.id;
  }

  async transcribe(audio: Pcm, opts: SttOptions): Promise<Transcript> {
    for (let i = 0; ; i++) {
      opts.signal.throwIfAborted();
      try {
        const t = await this.providers[i].transcribe(audio, opts);
        this.chain.served(i);
        return t;
      } catch (err) {
        this.chain.failed(i, err, opts.signal, false);
      }
    }
  }

  async warmup(): Promise<void> {
    const results = await Promise.allSettled(this.providers.map((p) => p.warmup?.()));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.providers.map((p) => p.close?.()));
  }
}

/**
 * A {@link TtsProvider} over an ordered chain: a failure before the first non-empty audio chunk moves to the
 * next provider; once audio has been yielded, a failure propagates (never two voices in one sentence). Wrap each
 * provider with {@link ResilientTts} first. `id` is the chain (`elevenlabs>openai.tts>local.espeak-ng`).
 */
export class FallbackTts implements TtsProvider {
  readonly id: string;
  private readonly chain: Chain<TtsProvider>;
  constructor(readonly providers: readonly TtsProvider[], o: FallbackOptions = {}) {
    this.chain = new Chain('tts', providers, o);
    this.id = this.chain.id;
  }

  synthesize(text: string, opts: SynthesizeOptions): AsyncIterable<AudioChunk> {
    return this.chain.stream(opts.signal, (p) => p.synthesize(text, opts), (chunk) => chunk.data.length > 0);
  }
}

/**
 * An {@link LlmProvider} over an ordered chain: a failure before the first delta moves to the next provider;
 * once a delta has been yielded, a failure propagates. Wrap each provider with {@link ResilientLlm} first.
 * `id` is the chain (`openai.chat>local.responder`).
 */
export class FallbackLlm implements LlmProvider {
  readonly id: string;
  private readonly chain: Chain<LlmProvider>;
  constructor(readonly providers: readonly LlmProvider[], o: FallbackOptions = {}) {
    this.chain = new Chain('llm', providers, o);
    this.id = this.chain.id;
  }

  chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<LlmDelta> {
    return this.chain.stream(signal, (p) => p.chat(req, signal), () => true);
  }
}
