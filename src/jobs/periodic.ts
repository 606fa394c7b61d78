/** A job run every `intervalMs` by {@link startPeriodic}. */
export interface Periodic<T> {
  /** One run now (or the running one); never overlaps another run. */
  runOnce(): Promise<T>;
  /** Stops the timer and waits for a running run. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs` (ms) in this process: runs never overlap (a tick during a run joins it), a failed run
 * goes to `onError` and the next tick tries again, and the timer is unref'd so it never keeps the process alive.
 * The post-call sweeper and the recordings' retention job use it.
 */
export function startPeriodic<T>(o: { intervalMs: number; run: () => Promise<T>; onError: (err: unknown) => void }): Periodic<T> {
  let running: Promise<T> | null = null;
  const runOnce = () => (running ??= o.run().finally(() => (running = null)));
  const timer = setInterval(() => {
    runOnce().catch(o.onError);
  }, o.intervalMs);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
