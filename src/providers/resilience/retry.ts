import { setTimeout as sleep } from 'timers/promises';
import { errorKind, isRetryable, retryAfterMs } from './errors';

/** Retry policy. All times in ms. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retry). */
  maxRetries: number;
  /** Backoff before retry n (1-based) is drawn uniformly from [½, 1] × min(maxDelayMs, baseDelayMs × 2^(n−1)). Default 100. */
  baseDelayMs?: number;
  /** Cap of the exponential backoff. Default 400. */
  maxDelayMs?: number;
  /** A server-requested Retry-After above this gives up retrying (the caller falls back instead of waiting). Default 1000. */
  maxRetryAfterMs?: number;
  /**
   * Whether timeouts are retried. Default true. Set false for a provider that has a fallback after it: a provider
   * that just took the whole timeout is likely to do it again, and the next provider is the faster way out.
   */
  retryTimeouts?: boolean;
  /** Random source in [0, 1) for the jitter (tests pin it). Default Math.random. */
  random?: () => number;
}

/** Called after every failed attempt that was not the caller's abort (`attempt` is 0-based). */
export type FailureHook = (err: unknown, info: { attempt: number; willRetry: boolean; delayMs: number }) => void;

/**
 * The wait before the retry following failed attempt `attempt` (0-based), or `null` when `err` must not be
 * retried: not a retryable ProviderError, retries exhausted, a timeout with `retryTimeouts: false`, or the server
 * asked to wait longer than `maxRetryAfterMs` (a phone caller cannot wait; the fallback chain is the better option). A Retry-After within
 * the limit is honoured (the wait is at least that long).
 */
export function retryDelayMs(err: unknown, attempt: number, p: RetryPolicy): number | null {
  if (!isRetryable(err) || attempt >= p.maxRetries) return null;
  if (p.retryTimeouts === false && errorKind(err) === 'timeout') return null;
  const requested = retryAfterMs(err);
  if (requested !== undefined && requested > (p.maxRetryAfterMs ?? 1000)) return null;
  const cap = Math.min(p.maxDelayMs ?? 400, (p.baseDelayMs ?? 100) * 2 ** attempt);
  const jittered = cap * (0.5 + 0.5 * (p.random ?? Math.random)());
  return Math.round(Math.max(jittered, requested ?? 0));
}

/** Sleeps `ms`, rejecting with `signal.reason` when the caller aborts. */
async function backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

/**
 * Calls `fn(attempt)` until it succeeds, retrying only retryable ProviderErrors per {@link retryDelayMs}. The
 * caller's abort (`signal`) is never retried nor reported to `onFailure`: it rethrows `signal.reason`.
 * @throws the last attempt's error.
 */
export async function retryCall<T>(p: RetryPolicy, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>, onFailure?: FailureHook): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const delay = retryDelayMs(err, attempt, p);
      onFailure?.(err, { attempt, willRetry: delay !== null, delayMs: delay ?? 0 });
      if (delay === null) throw err;
      await backoff(delay, signal);
    }
  }
}

/**
 * Iterates `fn(attempt)`, retrying like {@link retryCall} but only while no OUTPUT item (`isOutput`, default
 * every item) has been yielded: once output has started a failure propagates unchanged (the listener has heard
 * part of it; repeating would duplicate or mix it). Non-output items yielded by a failed attempt are not
 * replayed, but a retry may yield its own again.
 */
export async function* retryStream<T>(
  p: RetryPolicy,
  signal: AbortSignal,
  fn: (attempt: number) => AsyncIterable<T>,
  onFailure?: FailureHook,
  isOutput: (item: T) => boolean = () => true,
): AsyncGenerator<T> {
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    let started = false;
    try {
      for await (const item of fn(attempt)) {
        if (!started && isOutput(item)) started = true;
        yield item;
      }
      return;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const delay = started ? null : retryDelayMs(err, attempt, p);
      onFailure?.(err, { attempt, willRetry: delay !== null, delayMs: delay ?? 0 });
      if (delay === null) throw err;
      await backoff(delay, signal);
    }
  }
}
