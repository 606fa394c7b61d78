/**
 * The engine's clock: milliseconds on a monotonic time line (performance.now() in production). Injected into
 * Playout, Speaker, the dead-air guard and the session so tests can run on Jest's modern fake timers (which fake
 * performance.now, setTimeout and setImmediate together) or on a clock of their own.
 */
export interface Clock {
  /** Monotonic ms. */
  now(): number;
}

/** performance.now(), looked up at each call (so fake timers installed later still apply). */
export const systemClock: Clock = { now: () => performance.now() };

/**
 * Resolves true when `p` settles within `ms`, false otherwise. The timer is unref'd (it never keeps a process
 * alive) and cleared when `p` settles first.
 */
export async function withDeadline(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, ms));
    timer.unref?.();
  });
  try {
    return await Promise.race([p.then(() => true, () => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Settles like `p`, or rejects with `signal.reason` as soon as `signal` aborts — even when the work behind `p`
 * ignores the signal (its late result is then dropped). The one abort listener is removed when either happens.
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
