import { createHash } from 'node:crypto';
import { CSAT_FEATURES, csatRaw, csatScoreOf, type CsatFeatures, type CsatWeights } from './csat';

/**
 * Fitting the CSAT heuristic's weights to callers' stated scores (issue 13 §5) — pure, no I/O; used by
 * `scripts/refit-csat.ts` (`npm run csat:refit`).
 *
 * Model: stated ≈ b + w·x, x = the call's raw features ({@link CSAT_FEATURES}, `csatFeatures`). The fit is ordinary
 * least squares with a small ridge term that pulls the weights toward the current ones `w0` (not toward 0: a feature
 * the data never shows, e.g. no call over 10 minutes, keeps its current weight instead of losing it), the intercept
 * unpenalised:
 *
 *   minimise  Σ_i (y_i − b − w·x_i)²  +  λ ‖w − w0‖²
 *
 * Closed form (normal equations): with x̄, ȳ the training means and X_c, y_c the centred features and scores,
 *
 *   (X_cᵀ X_c + λ I) w = X_cᵀ y_c + λ w0        b = ȳ − w·x̄
 *
 * solved by Gaussian elimination with partial pivoting (7×7; λ > 0 makes the matrix positive definite). λ is in units
 * of "calls": with n training calls, λ ≪ n is a light pull.
 */

/** One training call: its raw features and the caller's stated score (1..5). */
export interface CsatSample {
  callSid: string;
  features: CsatFeatures;
  stated: number;
}

/**
 * Solves `A x = b` (A square, n×n) by Gaussian elimination with partial pivoting. Inputs are not modified.
 * @throws Error when A is singular (a pivot below 1e-12).
 */
export function solveLinear(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) throw new Error('solveLinear: singular matrix');
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/**
 * Fits `{ intercept, weights }` to `samples` (see the module comment), with `lambda` (≥ 0; 0 = plain OLS, which
 * throws when a feature never varies) pulling toward `prior`'s weights.
 * @throws RangeError with no samples or a negative lambda; Error when the system is singular.
 */
export function fitCsatWeights(samples: readonly CsatSample[], o: { lambda: number; prior: CsatWeights }): Pick<CsatWeights, 'intercept' | 'weights'> {
  if (!samples.length) throw new RangeError('fitCsatWeights: no samples');
  if (!(o.lambda >= 0)) throw new RangeError('fitCsatWeights: lambda must be ≥ 0');
  const k = CSAT_FEATURES.length;
  const n = samples.length;
  const X = samples.map((s) => CSAT_FEATURES.map((f) => s.features[f]));
  const y = samples.map((s) => s.stated);
  const xMean = CSAT_FEATURES.map((_, j) => X.reduce((a, row) => a + row[j], 0) / n);
  const yMean = y.reduce((a, v) => a + v, 0) / n;
  const w0 = CSAT_FEATURES.map((f) => o.prior.weights[f]);
  const A = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? o.lambda : 0)));
  const rhs = w0.map((w) => o.lambda * w);
  for (let r = 0; r < n; r++) {
    const xc = X[r].map((v, j) => v - xMean[j]);
    const yc = y[r] - yMean;
    for (let i = 0; i < k; i++) {
      rhs[i] += xc[i] * yc;
      for (let j = 0; j < k; j++) A[i][j] += xc[i] * xc[j];
    }
  }
  const w = solveLinear(A, rhs);
  const intercept = yMean - w.reduce((a, wi, j) => a + wi * xMean[j], 0);
  const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
  return { intercept: r6(intercept), weights: Object.fromEntries(CSAT_FEATURES.map((f, j) => [f, r6(w[j])])) as CsatWeights['weights'] };
}

/** Mean |stated − score| over `samples`, the score being the 1..5 one `weights` give (`clamp(round(raw))`); null when empty. */
export function csatMae(samples: readonly CsatSample[], weights: CsatWeights): number | null {
  if (!samples.length) return null;
  return samples.reduce((a, s) => a + Math.abs(s.stated - csatScoreOf(csatRaw(s.features, weights))), 0) / samples.length;
}

/**
 * Splits samples into training and held-out sets by a hash of the callSid (stable across runs: a call stays on its
 * side as more calls are added). `holdout` is the held-out share, 0..1.
 */
export function splitHoldout(samples: readonly CsatSample[], holdout: number): { train: CsatSample[]; test: CsatSample[] } {
  const train: CsatSample[] = [];
  const test: CsatSample[] = [];
  for (const s of samples) (createHash('sha256').update(s.callSid).digest().readUInt32BE(0) / 0x1_0000_0000 < holdout ? test : train).push(s);
  return { train, test };
}

/** The version of fitted weights: `fit:<YYYY-MM-DD>.<first 8 hex of sha256 of the weights' JSON>`. */
export function fittedVersion(w: Pick<CsatWeights, 'intercept' | 'weights'>, at: Date): string {
  const hash = createHash('sha256').update(JSON.stringify({ intercept: w.intercept, weights: w.weights })).digest('hex').slice(0, 8);
  return `fit:${at.toISOString().slice(0, 10)}.${hash}`;
}
