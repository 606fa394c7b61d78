import type { Logger } from 'pino';

/**
 * One readiness check: resolves when the dependency answers, rejects (any error) when it does not. `signal` aborts
 * when the check has run out of time (a check may ignore it; its late result is dropped).
 */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

/** Outcome of one check: `ms` is how long it took (at most the timeout); `error` is `'timeout'` or `'failed'`. */
export interface ReadinessCheckResult {
  ok: boolean;
  ms: number;
  error?: 'timeout' | 'failed';
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, ReadinessCheckResult>;
  /** Names of the checks that failed or timed out, in declaration order. */
  failed: string[];
}

/** Default per-check timeout of `GET /readyz` (ms): a hung dependency makes the probe fail, never hang. */
export const READINESS_TIMEOUT_MS = 1_000;

/**
 * Runs all checks side by side, each bounded by `timeoutMs`, and reports which failed. The reason of a failure is
 * logged (at warn) but not returned: the probe is unauthenticated and error messages may name hosts or users.
 */
export async function runReadinessChecks(checks: Record<string, ReadinessCheck>, o: { timeoutMs?: number; logger?: Logger } = {}): Promise<ReadinessReport> {
  const timeoutMs = o.timeoutMs ?? READINESS_TIMEOUT_MS;
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, ReadinessCheckResult]> => {
      const started = performance.now();
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(() => check(ac.signal)).then(() => 'ok' as const), timedOut]);
        const ms = Math.round(performance.now() - started);
        if (outcome === 'ok') return [name, { ok: true, ms }];
        ac.abort(new Error(`readiness check ${name} timed out`));
        o.logger?.warn({ check: name, timeoutMs }, 'readiness check timed out');
        return [name, { ok: false, ms, error: 'timeout' }];
      } catch (err) {
        o.logger?.warn({ check: name, err: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
        return [name, { ok: false, ms: Math.round(performance.now() - started), error: 'failed' }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = entries.filter(([, r]) => !r.ok).map(([n]) => n);
  return { ready: failed.length === 0, checks: Object.fromEntries(entries), failed };
}
