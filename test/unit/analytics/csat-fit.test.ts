import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CSAT_FEATURES, CSAT_METHOD, DEFAULT_CSAT_WEIGHTS, csatFeatures, csatRaw, scoreCsat, type CsatFeatures, type CsatWeights } from '../../../src/analytics/csat';
import { csatMae, fitCsatWeights, fittedVersion, solveLinear, splitHoldout, type CsatSample } from '../../../src/analytics/csat-fit';
import { loadCsatWeights } from '../../../src/analytics/csat-weights';
import { csatAgreement } from '../../../src/analytics/csat-agreement';
import { mulberry32 as rng } from '../../helpers/prng';

const TRUE: CsatWeights = { version: 'truth', intercept: 2.8, weights: { sentiment: 1.2, resolution: 1.4, repeatedFallbacks: -0.35, handoff: -0.9, closingCourtesy: 0.6, shortCall: -0.45, longCall: -0.3 } };

/** `n` calls with random features and the stated score a caller would give under {@link TRUE} (rounded, clamped). */
function synthetic(n: number, seed: number, o: { longCalls?: boolean } = {}): CsatSample[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const short = r() < 0.15 ? 1 : 0;
    const features: CsatFeatures = {
      sentiment: r() * 1.2 - 0.6,
      resolution: r() - 0.5,
      repeatedFallbacks: [0, 0, 0, 1, 2][Math.floor(r() * 5)],
      handoff: r() < 0.25 ? 1 : 0,
      closingCourtesy: r() < 0.5 ? 1 : 0,
      shortCall: short,
      longCall: o.longCalls === false || short ? 0 : r() < 0.15 ? 1 : 0,
    };
    const stated = Math.min(5, Math.max(1, Math.round(csatRaw(features, TRUE) + (r() - 0.5) * 0.6)));
    return { callSid: `CA${seed}-${i}`, features, stated };
  });
}

describe('CSAT weights fit (ridge OLS, normal equations)', () => {
  it('solveLinear solves a 3×3 system and refuses a singular one', () => {
    const x = solveLinear([[2, 1, -1], [-3, -1, 2], [-2, 1, 2]], [8, -11, -3]);
    expect(x.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([2, 3, -1]);
    expect(() => solveLinear([[1, 2], [2, 4]], [1, 2])).toThrow(/singular/);
  });

  it('recovers known weights from synthetic stated scores (integer, noisy) within 0.12', () => {
    const fit = fitCsatWeights(synthetic(4000, 7), { lambda: 1, prior: DEFAULT_CSAT_WEIGHTS });
    for (const f of CSAT_FEATURES) expect(Math.abs(fit.weights[f] - TRUE.weights[f])).toBeLessThan(0.12);
    expect(Math.abs(fit.intercept - TRUE.intercept)).toBeLessThan(0.12);
  });

  it('the held-out MAE of the fitted weights beats the hand-set ones on such data', () => {
    const { train, test } = splitHoldout(synthetic(2000, 11), 0.25);
    expect(test.length).toBeGreaterThan(350);
    expect(test.length).toBeLessThan(650);
    const fitted = { version: 'x', ...fitCsatWeights(train, { lambda: 1, prior: DEFAULT_CSAT_WEIGHTS }) };
    expect(csatMae(test, fitted)!).toBeLessThan(csatMae(test, DEFAULT_CSAT_WEIGHTS)! - 0.05);
    expect(csatMae([], fitted)).toBeNull();
  });

  it('the ridge term keeps the prior weight of a feature the data never shows; λ = 0 then has no solution', () => {
    const samples = synthetic(1500, 3, { longCalls: false });
    const fit = fitCsatWeights(samples, { lambda: 1, prior: DEFAULT_CSAT_WEIGHTS });
    expect(fit.weights.longCall).toBe(DEFAULT_CSAT_WEIGHTS.weights.longCall);
    expect(Math.abs(fit.weights.handoff - TRUE.weights.handoff)).toBeLessThan(0.15);
    expect(() => fitCsatWeights(samples, { lambda: 0, prior: DEFAULT_CSAT_WEIGHTS })).toThrow(/singular/);
    expect(() => fitCsatWeights([], { lambda: 1, prior: DEFAULT_CSAT_WEIGHTS })).toThrow(RangeError);
  });

  it('splitHoldout is stable per callSid; fittedVersion is fit:<date>.<8 hex> and changes with the weights', () => {
    const s = synthetic(200, 5);
    const a = splitHoldout(s, 0.3);
    const b = splitHoldout([...s].reverse(), 0.3);
    expect(new Set(b.test.map((x) => x.callSid))).toEqual(new Set(a.test.map((x) => x.callSid)));
    const at = new Date('2026-12-03T06:00:00Z');
    expect(fittedVersion(DEFAULT_CSAT_WEIGHTS, at)).toMatch(/^fit:2026-12-03\.[0-9a-f]{8}$/);
    expect(fittedVersion({ ...DEFAULT_CSAT_WEIGHTS, intercept: 3.1 }, at)).not.toBe(fittedVersion(DEFAULT_CSAT_WEIGHTS, at));
  });
});

describe('scoreCsat with separable weights', () => {
  const turns = [
    { role: 'agent' as const, text: 'Hello, how can I help?', language: 'en', startMs: 0, endMs: 2_000 },
    { role: 'caller' as const, text: 'This is great, thank you so much!', language: 'en', startMs: 3_000, endMs: 6_000 },
    { role: 'agent' as const, text: 'Happy to help.', language: 'en', startMs: 7_000, endMs: 30_000 },
  ];

  it('raw = intercept + Σ w·x of csatFeatures; other weights give another score and name their version', () => {
    const f = csatFeatures({ turns });
    const d = scoreCsat({ turns });
    expect(d.method).toBe(CSAT_METHOD);
    expect(d.details.raw).toBeCloseTo(csatRaw(f.features), 1);
    const harsh: CsatWeights = { version: 'fit:2026-12-03.deadbeef', intercept: 1, weights: { ...DEFAULT_CSAT_WEIGHTS.weights, closingCourtesy: 0, sentiment: 0 } };
    const h = scoreCsat({ turns }, harsh);
    expect(h).toMatchObject({ score: 2, method: 'heuristic-v2+fit:2026-12-03.deadbeef' }); // 1 + resolution 1 × (1 − 0.5)
    expect(h.details.raw).toBe(1.5);
    expect(d.score).toBeGreaterThan(h.score);
    expect(h.details.components).toMatchObject({ base: 1, sentiment: 0, closingCourtesy: 0 });
  });
});

describe('loadCsatWeights', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'csat-weights-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no file: the built-in weights; the committed default file: the same weights', () => {
    expect(loadCsatWeights(path.join(dir, 'missing.json'))).toMatchObject({ source: 'builtin', weights: DEFAULT_CSAT_WEIGHTS });
    const committed = loadCsatWeights(path.join(__dirname, '../../../config/csat-weights.json'));
    expect(committed.source).toBe('file');
    expect(committed.weights).toEqual({ ...DEFAULT_CSAT_WEIGHTS, weights: { ...DEFAULT_CSAT_WEIGHTS.weights } });
  });

  it('a fitted file is loaded; a broken one throws naming the file and the field', () => {
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ version: 'fit:2026-12-03.0123abcd', intercept: 2.5, weights: { ...DEFAULT_CSAT_WEIGHTS.weights, handoff: -1 }, fit: { calls: 40 } }));
    expect(loadCsatWeights(good).weights).toEqual({ version: 'fit:2026-12-03.0123abcd', intercept: 2.5, weights: { ...DEFAULT_CSAT_WEIGHTS.weights, handoff: -1 } });
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 'v', intercept: 3, weights: { sentiment: 1 } }));
    expect(() => loadCsatWeights(bad)).toThrow(/bad\.json: weights\.resolution/);
    writeFileSync(bad, '{ not json');
    expect(() => loadCsatWeights(bad)).toThrow(/not valid JSON/);
  });
});

describe('csatAgreement', () => {
  it('builds the matrix, MAE and rates from (stated, predicted, n) groups; refuses scores outside 1..5', () => {
    const a = csatAgreement([{ stated: 5, predicted: 3, n: 2 }, { stated: 3, predicted: 3, n: 1 }, { stated: 1, predicted: 2, n: 1 }]);
    expect(a).toMatchObject({ n: 4, meanAbsoluteError: 1.25, exactRate: 0.25, withinOneRate: 0.5, meanStated: 3.5, meanPredicted: 2.75 });
    expect(a.matrix[4]).toEqual([0, 0, 2, 0, 0]);
    expect(a.matrix[0]).toEqual([0, 1, 0, 0, 0]);
    expect(() => csatAgreement([{ stated: 6, predicted: 3, n: 1 }])).toThrow(RangeError);
  });
});
