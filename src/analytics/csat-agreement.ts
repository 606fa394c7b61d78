/**
 * Agreement between callers' stated CSAT and the predicted one (issue 13 §5) — pure, no I/O.
 *
 * From counts of calls per (stated, predicted) pair of scores 1..5:
 * - `matrix[s-1][p-1]`: calls the caller rated `s` and the heuristic predicted `p` (rows stated, columns predicted);
 * - n = Σ matrix; meanAbsoluteError = Σ |s − p| / n; exactRate = share with s = p; withinOneRate = share with |s − p| ≤ 1;
 * - meanStated / meanPredicted: the means of each score over the same n calls.
 * Every rate and mean is null when n = 0; rounded to 4 decimals.
 */
export interface CsatAgreement {
  n: number;
  /** 5×5: rows stated 1..5, columns predicted 1..5. */
  matrix: number[][];
  meanAbsoluteError: number | null;
  exactRate: number | null;
  withinOneRate: number | null;
  meanStated: number | null;
  meanPredicted: number | null;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Builds {@link CsatAgreement} from `(stated, predicted, n)` groups.
 * @throws RangeError on a score outside 1..5 or a negative / non-integer count.
 */
export function csatAgreement(groups: ReadonlyArray<{ stated: number; predicted: number; n: number }>): CsatAgreement {
  const matrix = Array.from({ length: 5 }, () => [0, 0, 0, 0, 0]);
  let n = 0;
  let absErr = 0;
  let exact = 0;
  let within = 0;
  let stated = 0;
  let predicted = 0;
  for (const g of groups) {
    for (const v of [g.stated, g.predicted]) if (!Number.isInteger(v) || v < 1 || v > 5) throw new RangeError(`csatAgreement: score ${v} is not 1..5`);
    if (!Number.isInteger(g.n) || g.n < 0) throw new RangeError(`csatAgreement: count ${g.n} is not a non-negative integer`);
    matrix[g.stated - 1][g.predicted - 1] += g.n;
    const d = Math.abs(g.stated - g.predicted);
    n += g.n;
    absErr += d * g.n;
    if (d === 0) exact += g.n;
    if (d <= 1) within += g.n;
    stated += g.stated * g.n;
    predicted += g.predicted * g.n;
  }
  const rate = (x: number) => (n ? r4(x / n) : null);
  return { n, matrix, meanAbsoluteError: rate(absErr), exactRate: rate(exact), withinOneRate: rate(within), meanStated: rate(stated), meanPredicted: rate(predicted) };
}
