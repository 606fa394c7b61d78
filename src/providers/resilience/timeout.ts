import { ProviderTimeoutError } from './errors';

/** What a timeout guards: the provider id (for the error) and a short label such as `transcription`. */
export interface TimeoutSpec {
  provider: string;
  /** Label used in the error message, e.g. `transcription`, `first audio`, `first token`. */
  what: string;
  /** Milliseconds; `0` (or less) disables the timeout. */
  ms: number;
}

const noop = () => {};

/**
 * A child AbortController chained to `parent` (aborts with the parent's reason) plus a `guard` promise that
 * rejects with the parent's reason when the parent aborts, or with a {@link ProviderTimeoutError} when `arm()`ed
 * and `spec.ms` elapses (the child is aborted with that error first). `release()` disarms the timer; `dispose()`
 * also detaches from the parent. The guard never resolves and never causes an unhandled rejection.
 */
function chained(parent: AbortSignal, spec: TimeoutSpec) {
  const child = new AbortController();
  let rejectGuard: (e: unknown) => void = noop;
  const guard = new Promise<never>((_, reject) => { rejectGuard = reject; });
  guard.catch(noop);
  let timer: NodeJS.Timeout | undefined;
  let timedOut: ProviderTimeoutError | undefined;
  const onAbort = () => {
    release();
    child.abort(parent.reason);
    rejectGuard(parent.reason);
  };
  const release = () => { if (timer) clearTimeout(timer); timer = undefined; };
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: child.signal,
    guard,
    get timedOut() { return timedOut; },
    arm() {
      if (!(spec.ms > 0)) return;
      timer = setTimeout(() => {
        timer = undefined;
        timedOut = new ProviderTimeoutError(spec.provider, spec.what, spec.ms);
        child.abort(timedOut);
        rejectGuard(timedOut);
      }, spec.ms);
    },
    release,
    /** Aborts the child (used when the consumer stops a stream early) unless it already ended. */
    abortChild(reason: unknown) { if (!child.signal.aborted) child.abort(reason); },
    dispose() { release(); parent.removeEventListener('abort', onAbort); },
  };
}

/**
 * Runs `fn` with a signal chained to `signal`; rejects with a retryable {@link ProviderTimeoutError}
 * (`<provider>: <what> timed out after N ms`) when it has not settled after `spec.ms`, aborting the request first.
 * When the caller's `signal` aborts, rejects at once with `signal.reason` (passes the abort through unchanged),
 * even if `fn` ignores its signal. Otherwise settles like `fn`.
 */
export async function callWithTimeout<T>(signal: AbortSignal, spec: TimeoutSpec, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const c = chained(signal, spec);
  c.arm();
  try {
    const work = (async () => fn(c.signal))();
    work.catch(noop); // when the guard wins, the request's own rejection is expected and irrelevant
    return await Promise.race([work, c.guard]);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw c.timedOut ?? err;
  } finally {
    c.dispose();
  }
}

/**
 * Iterates `fn(signal)` with a timeout until its first OUTPUT item (`isOutput`, default: every item), after which
 * the stream runs untimed. On timeout the request is aborted and the iteration throws a retryable
 * {@link ProviderTimeoutError}; when the caller's `signal` aborts, it throws `signal.reason` at once (even if the
 * inner stream ignores its signal). When the consumer stops early (`break`), the inner stream is aborted and
 * closed. Other errors propagate unchanged.
 */
export async function* streamWithFirstOutputTimeout<T>(
  signal: AbortSignal,
  spec: TimeoutSpec,
  fn: (signal: AbortSignal) => AsyncIterable<T>,
  isOutput: (item: T) => boolean = () => true,
): AsyncGenerator<T> {
  signal.throwIfAborted();
  const c = chained(signal, spec);
  c.arm();
  let it: AsyncIterator<T> | undefined;
  let finished = false;
  let pending = false; // an inner next() is still running (the guard won the race)
  try {
    it = fn(c.signal)[Symbol.asyncIterator]();
    for (;;) {
      const next = it.next();
      pending = true;
      next.then(() => { pending = false; }, () => { pending = false; });
      const r = await Promise.race([next, c.guard]);
      if (r.done) {
        finished = true;
        return;
      }
      if (isOutput(r.value)) c.release();
      yield r.value;
    }
  } catch (err) {
    finished = true; // the inner iterator threw (it is closed) or we abandon it below
    if (signal.aborted) throw signal.reason;
    throw c.timedOut ?? err;
  } finally {
    c.dispose();
    if (it && (!finished || pending)) {
      // Consumer stopped early, or the guard won while the inner stream was still working: stop the request and
      // close the iterator without waiting for a stream that may ignore its signal.
      c.abortChild(signal.aborted ? signal.reason : new Error('stream closed by consumer'));
      if (!pending) await it.return?.().catch(noop);
      else void Promise.resolve(it.return?.()).catch(noop);
    }
  }
}
