/**
 * Word error rate: WER = (S + D + I) / N, from the minimum-edit (Levenshtein) alignment of reference and hypothesis
 * word sequences (as in NIST sclite). Words are compared after lower-casing and removing punctuation
 * (anything not a letter, digit, apostrophe or whitespace); apostrophes are kept so "don't" ≠ "dont".
 */

export interface WerResult {
  /** (substitutions + deletions + insertions) / referenceWords; 0 when both are empty, Infinity if only the reference is. */
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  referenceWords: number;
}

/** Lower-cases, strips punctuation and splits on whitespace. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * Computes WER and its error counts; ties in the alignment prefer substitutions, then deletions, then insertions.
 * O(N·M) time and memory in words.
 */
export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const r = normalizeWords(reference);
  const h = normalizeWords(hypothesis);
  const n = r.length, m = h.length;
  // cost[i][j] = edits to turn r[0..i) into h[0..j); op: 0 match, 1 sub, 2 del, 3 ins.
  const cost: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const op: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = 1; i <= n; i++) { cost[i][0] = i; op[i][0] = 2; }
  for (let j = 1; j <= m; j++) { cost[0][j] = j; op[0][j] = 3; }
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = r[i - 1] === h[j - 1];
      let best = cost[i - 1][j - 1] + (same ? 0 : 1), o = same ? 0 : 1;
      if (cost[i - 1][j] + 1 < best) { best = cost[i - 1][j] + 1; o = 2; }
      if (cost[i][j - 1] + 1 < best) { best = cost[i][j - 1] + 1; o = 3; }
      cost[i][j] = best;
      op[i][j] = o;
    }
  }
  let substitutions = 0, deletions = 0, insertions = 0;
  for (let i = n, j = m; i > 0 || j > 0; ) {
    const o = op[i][j];
    if (o === 0 || o === 1) { if (o === 1) substitutions++; i--; j--; }
    else if (o === 2) { deletions++; i--; }
    else { insertions++; j--; }
  }
  const errors = substitutions + deletions + insertions;
  return { wer: n === 0 ? (errors === 0 ? 0 : Infinity) : errors / n, substitutions, deletions, insertions, referenceWords: n };
}
