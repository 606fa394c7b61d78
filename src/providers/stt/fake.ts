import type { Pcm } from '../../audio/types';
import { ProviderError } from '../errors';
import type { SttOptions, SttProvider, Transcript } from '../types';

/**
 * Resolves after `ms` milliseconds, or rejects with the signal's reason (an AbortError DOMException by default)
 * as soon as `signal` aborts. `ms <= 0` still yields to the event loop once.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  // 0 ms yields to the event loop once (setImmediate) without the ~1 ms floor of a timer: a "zero-latency" fake
  // must not add latency of its own to what benchmarks measure.
  if (ms <= 0) return new Promise<void>((resolve, reject) => setImmediate(() => (signal.aborted ? reject(signal.reason) : resolve())));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => { clearTimeout(t); reject(signal.reason); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link FakeStt}. */
export interface FakeSttOptions {
  /** Scripted results, used in order (a string means `{ text }`); when exhausted, `fallback` is used. */
  transcripts?: Array<string | Transcript>;
  /** Computes the result from the audio and the 0-based call index (used when `transcripts` is absent or exhausted). */
  respond?: (audio: Pcm, callIndex: number) => string | Transcript;
  /** Latency of every call (ms), or a function of the call index. Default 0. */
  latencyMs?: number | ((callIndex: number) => number);
  /** Makes call `callIndex` fail with the returned error (return undefined to succeed). */
  failWith?: (callIndex: number) => Error | undefined;
  /** Language reported when a scripted string is returned (ISO 639-1). Default undefined. */
  language?: string;
}

/**
 * Test/benchmark STT with scripted transcripts, injectable latency and failures. Records every call in `calls`.
 * Abort rejects promptly with the signal's reason. With no script and no `respond`, returns `{ text: '' }`.
 * @throws whatever `failWith` returns (use ProviderError for realistic failures).
 */
export class FakeStt implements SttProvider {
  readonly id = 'fake.stt';
  readonly calls: Array<{ samples: number; sampleRate: number; languageHint?: string }> = [];
  private readonly queue: Array<string | Transcript>;

  constructor(private readonly o: FakeSttOptions = {}) {
    this.queue = [...(o.transcripts ?? [])];
  }

  async transcribe(audio: Pcm, opts: SttOptions): Promise<Transcript> {
    const i = this.calls.length;
    this.calls.push({ samples: audio.samples.length, sampleRate: audio.sampleRate, languageHint: opts.languageHint });
    const latency = typeof this.o.latencyMs === 'function' ? this.o.latencyMs(i) : (this.o.latencyMs ?? 0);
    await abortableSleep(latency, opts.signal);
    const err = this.o.failWith?.(i);
    if (err) throw err;
    const r = this.queue.length ? this.queue.shift()! : this.o.respond ? this.o.respond(audio, i) : '';
    return typeof r === 'string' ? { text: r, language: this.o.language } : r;
  }
}

/** A retryable ProviderError as a scripted failure, e.g. `failWith: (i) => i === 0 ? fakeOutage('fake.stt') : undefined`. */
export function fakeOutage(provider: string, status = 503): ProviderError {
  return new ProviderError(provider, `scripted outage (HTTP ${status})`, { retryable: true, status });
}
