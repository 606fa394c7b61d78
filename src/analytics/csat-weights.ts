import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CSAT_FEATURES, DEFAULT_CSAT_WEIGHTS, type CsatFeature, type CsatWeights } from './csat';

/** Where the CSAT weights are read from when `CSAT_WEIGHTS_FILE` is unset (relative to the working directory). */
export const DEFAULT_CSAT_WEIGHTS_FILE = 'config/csat-weights.json';

const finite = z.number().finite();

/**
 * The weights file (`config/csat-weights.json`, written by `npm run csat:refit`): `version` (`default` or
 * `fit:<YYYY-MM-DD>.<hash>`), `intercept`, one weight per feature of `CSAT_FEATURES`, and optional facts about the
 * fit (`fit`: when, on how many calls, ridge λ, held-out MAE before/after) that scoring ignores.
 */
export const csatWeightsFileSchema = z.object({
  version: z.string().regex(/^[A-Za-z0-9_.:-]{1,40}$/, 'version must be 1-40 chars of letters, digits, _ . : -'),
  intercept: finite,
  weights: z.object(Object.fromEntries(CSAT_FEATURES.map((k) => [k, finite])) as Record<CsatFeature, typeof finite>).strict(),
  fit: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type CsatWeightsFile = z.infer<typeof csatWeightsFileSchema>;

/**
 * Reads the weights in `file` (default: `CSAT_WEIGHTS_FILE`, else {@link DEFAULT_CSAT_WEIGHTS_FILE}).
 * A missing file means the built-in weights ({@link DEFAULT_CSAT_WEIGHTS}; `source: 'builtin'`), so the heuristic
 * works with no file at all.
 * @throws Error naming the file when it exists but is not valid JSON of {@link csatWeightsFileSchema} (a broken
 * fit must not silently score calls with other weights).
 */
export function loadCsatWeights(file: string = process.env.CSAT_WEIGHTS_FILE || DEFAULT_CSAT_WEIGHTS_FILE): { weights: CsatWeights; source: 'file' | 'builtin'; file: string } {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { weights: DEFAULT_CSAT_WEIGHTS, source: 'builtin', file: resolved };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`CSAT weights file ${resolved} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = csatWeightsFileSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`CSAT weights file ${resolved}: ${i?.path.join('.') || '(root)'}: ${i?.message}`);
  }
  const { version, intercept, weights } = parsed.data;
  return { weights: { version, intercept, weights }, source: 'file', file: resolved };
}

let cached: CsatWeights | null = null;

/** The weights of {@link loadCsatWeights}, read once per process (the post-call worker and the API use them). */
export function currentCsatWeights(): CsatWeights {
  cached ??= loadCsatWeights().weights;
  return cached;
}
