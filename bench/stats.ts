/** Small statistics and output helpers for the benchmarks. */

/**
 * The p-th percentile (0..100) of `xs` by the nearest-rank method (the smallest value with at least p % of the
 * samples at or below it). NaN for an empty list.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** Count, min, p50, p95, p99, max and mean of `xs` (NaN fields when empty). */
export function summarize(xs: readonly number[]): { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number } {
  return {
    n: xs.length,
    min: xs.length ? Math.min(...xs) : NaN,
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    p99: percentile(xs, 99),
    max: xs.length ? Math.max(...xs) : NaN,
    mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN,
  };
}

/** Rounds to `digits` decimals; null stays null and NaN becomes null (so JSON output never holds NaN). */
export function round(x: number | null | undefined, digits = 1): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** One benchmark figure as printed: `{ name, value, unit, ...context }`. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  [context: string]: unknown;
}

/** Prints one figure as a single JSON line on stdout (the benchmark's only stdout output). */
export function emit(f: Figure): void {
  process.stdout.write(`${JSON.stringify(f)}\n`);
}

/** Progress for humans, on stderr (stdout stays machine-readable). */
export function progress(msg: string): void {
  process.stderr.write(`[bench +${Math.round(process.uptime())} s] ${msg}\n`);
}
