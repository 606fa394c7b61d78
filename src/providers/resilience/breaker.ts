import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy, type IBackoff, type IBreaker, type IHalfOpenAfterBackoffContext } from 'cockatiel';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics/metrics';
import { ProviderError } from '../errors';
import { errorKind, isRetryable, safeErrorMessage, type Capability } from './errors';

/** Settings of a provider's circuit breaker (config: `BREAKER_FAILURES`, `BREAKER_HALF_OPEN_MS`). */
export interface BreakerOptions {
  /** Consecutive failed attempts (never the caller's abort) that open the circuit. ≥ 1. */
  failures: number;
  /**
   * A single timeout opens the circuit (default true): a provider that hangs costs every caller the whole timeout,
   * so the second turn must not pay it again.
   */
  openOnTimeout?: boolean;
  /** How long an open circuit skips its provider before one half-open probe is let through (ms). ≥ 0. */
  halfOpenMs: number;
}

/** Dependencies of a {@link ProviderBreaker}: where its state is reported. */
export interface BreakerDeps {
  /** `providerCircuitState {capability, provider}`: 0 closed, 1 half-open, 2 open. */
  metrics?: Pick<Metrics, 'providerCircuitState'>;
  /** Each state change is logged once at `warn`. */
  logger?: Logger;
}

/**
 * Thrown at once, without calling the provider, while its circuit is open (or while its one half-open probe is
 * in flight). Not retryable, so the retry wrapper gives up and a fallback chain moves straight to the next provider.
 * Message: `<provider>: circuit open (skipped)`.
 */
export class CircuitOpenError extends ProviderError {
  constructor(provider: string) {
    super(provider, 'circuit open (skipped)', { retryable: false });
    this.name = 'CircuitOpenError';
  }
}

/** Numeric value of each state in `providerCircuitState`. */
const GAUGE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};
const NAME: Record<CircuitState, 'closed' | 'half-open' | 'open'> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * cockatiel's ConsecutiveBreaker, which also opens at once on a timeout when `openOnTimeout` ({@link BreakerOptions}).
 * cockatiel's breakers do not see the error, so the policy's failure predicate marks `lastWasTimeout` first.
 */
class TimeoutOrConsecutiveBreaker implements IBreaker {
  private readonly inner: ConsecutiveBreaker;
  lastWasTimeout = false;
  constructor(failures: number, private readonly openOnTimeout: boolean) {
    this.inner = new ConsecutiveBreaker(failures);
  }
  get state(): unknown {
    return this.inner.state;
  }
  set state(v: unknown) {
    this.inner.state = v as number;
  }
  success(): void {
    this.inner.success();
  }
  failure(): boolean {
    const consecutive = this.inner.failure();
    return consecutive || (this.openOnTimeout && this.lastWasTimeout);
  }
}

/** Carries the caller's abort through cockatiel, so it can be told apart from a provider failure. */
class CallerAbort extends Error {
  constructor(readonly reason: unknown) {
    super('aborted by the caller');
  }
}

/**
 * Whether a failed attempt says the provider is unhealthy: retryable ProviderErrors (timeouts, 408/409/429, 5xx,
 * network failures) and 401/403 (the provider refuses our credentials, so every call will fail). Errors caused by
 * one request (other 4xx, invalid input) or by our own code are not counted.
 */
export function countsAsFailure(err: unknown): boolean {
  if (err instanceof CircuitOpenError) return false;
  if (isRetryable(err) || errorKind(err) === 'timeout') return true;
  const status = err instanceof ProviderError ? err.status : undefined;
  return status === 401 || status === 403;
}

/**
 * One circuit breaker per provider (cockatiel 3 `circuitBreaker` with a `ConsecutiveBreaker`), shared by every
 * call to that provider in the process.
 *
 * - Closed: calls go through. `failures` consecutive failed attempts ({@link countsAsFailure}) open it, and so does
 *   a single timeout (`openOnTimeout`); a success resets the count; the caller's abort neither counts nor resets.
 * - Open: calls throw {@link CircuitOpenError} at once, without touching the provider, for `halfOpenMs`.
 * - Half-open: the first call after that is the probe; calls made while it runs are skipped like when open (a
 *   phone caller cannot wait for someone else's probe). The probe's success closes the circuit, a counted
 *   failure reopens it for another `halfOpenMs`, any other error closes it (the provider answered). A probe the
 *   caller aborts proves nothing: the circuit reopens and the next call probes again at once.
 *
 * State goes to `providerCircuitState {capability, provider}` (0 closed, 1 half-open, 2 open; set to 0 at
 * construction) and each change is logged once at `warn` (an opening with the failure's kind and redacted message).
 * Time comes from `Date.now()` (cockatiel), so Jest modern fake timers drive it.
 */
export class ProviderBreaker {
  private readonly policy: CircuitBreakerPolicy;

  /** @throws RangeError when `failures` < 1 or `halfOpenMs` < 0. */
  constructor(
    readonly capability: Capability,
    readonly provider: string,
    o: BreakerOptions,
    d: BreakerDeps = {},
  ) {
    if (!Number.isInteger(o.failures) || o.failures < 1) throw new RangeError(`breaker failures must be a positive integer, got ${o.failures}`);
    if (!(o.halfOpenMs >= 0)) throw new RangeError(`breaker halfOpenMs must be >= 0, got ${o.halfOpenMs}`);
    // After an aborted probe the circuit reopens with no wait, so that the next call probes.
    const after = (ctx: IHalfOpenAfterBackoffContext): IBackoff<IHalfOpenAfterBackoffContext> => ({
      duration: 'error' in ctx.result && ctx.result.error instanceof CallerAbort ? 0 : o.halfOpenMs,
      next: after,
    });
    const breaker = new TimeoutOrConsecutiveBreaker(o.failures, o.openOnTimeout ?? true);
    const policy = circuitBreaker(
      handleWhen((err) => {
        breaker.lastWasTimeout = !(err instanceof CallerAbort) && errorKind(err) === 'timeout';
        return err instanceof CallerAbort ? policy.state === CircuitState.HalfOpen : countsAsFailure(err);
      }),
      { halfOpenAfter: { next: after }, breaker },
    );
    this.policy = policy;
    const labels = { capability, provider };
    d.metrics?.providerCircuitState.set(labels, 0);
    policy.onStateChange((state) => {
      d.metrics?.providerCircuitState.set(labels, GAUGE[state]);
      const last = policy.lastFailure;
      const err = last && 'error' in last ? last.error : undefined;
      if (state === CircuitState.Open && err instanceof CallerAbort) {
        d.logger?.debug({ ...labels }, 'provider circuit probe aborted by the caller; next call probes again');
      } else if (state === CircuitState.Open) {
        d.logger?.warn({ ...labels, state: NAME[state], failures: o.failures, reopenInMs: o.halfOpenMs, kind: errorKind(err), err: safeErrorMessage(err) }, 'provider circuit open: skipping provider');
      } else if (state === CircuitState.HalfOpen && err instanceof CallerAbort) {
        d.logger?.debug({ ...labels }, 'provider circuit half-open: probing again');
      } else {
        d.logger?.warn({ ...labels, state: NAME[state] }, state === CircuitState.HalfOpen ? 'provider circuit half-open: probing' : 'provider circuit closed');
      }
    });
  }

  /** Current state. */
  get state(): 'closed' | 'half-open' | 'open' {
    return NAME[this.policy.state];
  }

  /**
   * Runs one attempt `fn` through the breaker. `signal` is the caller's: when it has fired, `fn`'s rejection is
   * the caller's abort and is rethrown unchanged and uncounted.
   * @throws CircuitOpenError at once while open or while a probe is in flight; otherwise whatever `fn` throws.
   */
  async call<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.policy.state === CircuitState.HalfOpen) throw new CircuitOpenError(this.provider);
    try {
      return await this.policy.execute(async () => {
        try {
          return await fn();
        } catch (err) {
          throw signal?.aborted ? new CallerAbort(err) : err;
        }
      });
    } catch (err) {
      if (err instanceof CallerAbort) throw err.reason;
      if (err instanceof BrokenCircuitError) throw new CircuitOpenError(this.provider);
      throw err;
    }
  }

  /**
   * Streams `fn()` through the breaker: the attempt counts as a success once its first OUTPUT item (`isOutput`)
   * arrives (or the stream ends without one), and as a failure when it throws before that; items before the first
   * output are held back until then. Later failures propagate uncounted (the provider did answer). Stopping
   * early closes the inner iterator. @throws like {@link call}.
   */
  async *stream<T>(signal: AbortSignal, fn: () => AsyncIterable<T>, isOutput: (item: T) => boolean = () => true): AsyncGenerator<T> {
    let it: AsyncIterator<T> | undefined;
    let done = false;
    const head: T[] = [];
    try {
      await this.call(signal, async () => {
        it = fn()[Symbol.asyncIterator]();
        for (;;) {
          const r = await it.next();
          if (r.done) {
            done = true;
            return;
          }
          head.push(r.value);
          if (isOutput(r.value)) return;
        }
      });
      for (const item of head.splice(0)) yield item;
      while (!done) {
        const r = await it!.next();
        if (r.done) done = true;
        else yield r.value;
      }
    } finally {
      if (it && !done) await Promise.resolve(it.return?.()).catch(() => {});
    }
  }
}
