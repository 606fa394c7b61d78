// `npm run csat:refit`: refits the CSAT heuristic's weights to callers' stated scores (the end-of-call survey) and
// writes them to the weights file the post-call step and the API load (config/csat-weights.json by default).
// The method (OLS with a small ridge term toward the current weights, closed form via the normal equations) is
// documented in src/analytics/csat-fit.ts.
//
// Usage: tsx scripts/refit-csat.ts [--out FILE] [--lambda 1] [--holdout 0.2] [--min-calls 30] [--from ISO] [--to ISO]
//                                  [--agent ID] [--force]
//   --out       weights file to read the current weights from and write (default CSAT_WEIGHTS_FILE, else
//               config/csat-weights.json)
//   --lambda    ridge strength, in calls (default 1)
//   --holdout   share of calls held out to measure MAE before/after (by a hash of the callSid; default 0.2)
//   --min-calls fewest calls with a stated score to fit on (default 30); fewer: says so, writes nothing, exits 0
//   --force     write even when the held-out MAE got worse
// Reads DATABASE_URL (src/config.ts). Without any stated score it says so and exits 0 without writing.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { CSAT_FEATURES, csatFeatures, csatMethod, type CsatWeights } from '../src/analytics/csat';
import { csatMae, fitCsatWeights, fittedVersion, splitHoldout, type CsatSample } from '../src/analytics/csat-fit';
import { DEFAULT_CSAT_WEIGHTS_FILE, loadCsatWeights, type CsatWeightsFile } from '../src/analytics/csat-weights';
import { CallsRepo } from '../src/db/calls';

/** What {@link refitCsat} is run with. */
export interface RefitOptions {
  db: Knex;
  /** Weights file written (its current weights are the "before" and the ridge's prior). */
  out: string;
  lambda: number;
  holdout: number;
  minCalls: number;
  force?: boolean;
  /** Only calls that started in [from, to), of this agent. */
  from?: Date;
  to?: Date;
  agentId?: string;
  /** The fit's date (version string). */
  now: Date;
  print: (line: string) => void;
}

/** What {@link refitCsat} did. `written`: the weights file was (over)written. */
export interface RefitResult {
  written: boolean;
  /** Why nothing was written (no stated scores, too few, worse held-out MAE). */
  reason?: 'no_stated_scores' | 'too_few' | 'worse';
  n: number;
  train: number;
  test: number;
  maeBefore: number | null;
  maeAfter: number | null;
  file?: CsatWeightsFile;
}

/**
 * The calls with a stated score, as training samples: each call's raw features recomputed from its turns, events
 * and duration exactly as the csat post-call step does (`csatFeatures`).
 */
export async function loadSamples(db: Knex, o: { from?: Date; to?: Date; agentId?: string } = {}): Promise<CsatSample[]> {
  const q = db('call_csat as s')
    .join('calls as c', 'c.call_sid', 's.call_sid')
    .whereNotNull('s.stated_score')
    .select('s.call_sid', 's.stated_score', 'c.started_at', 'c.ended_at')
    .orderBy('c.started_at');
  if (o.from) q.where('c.started_at', '>=', o.from);
  if (o.to) q.where('c.started_at', '<', o.to);
  if (o.agentId) q.where('c.agent_id', o.agentId);
  const calls = new CallsRepo(db);
  const out: CsatSample[] = [];
  for (const r of (await q) as Array<{ call_sid: string; stated_score: number; started_at: Date; ended_at: Date | null }>) {
    const [turns, events] = await Promise.all([calls.turns(r.call_sid), calls.events(r.call_sid)]);
    const durationMs = r.ended_at ? new Date(r.ended_at).getTime() - new Date(r.started_at).getTime() : null;
    out.push({ callSid: r.call_sid, stated: Number(r.stated_score), features: csatFeatures({ turns, durationMs, eventTypes: events.map((e) => e.type) }).features });
  }
  return out;
}

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

/**
 * Refits the weights (see the file comment): loads the samples, splits them, fits on the training share, prints
 * the held-out MAE of the current and the fitted weights, and writes the fitted weights (version
 * `fit:<date>.<hash>`) to `o.out` — unless there are no stated scores, fewer than `minCalls`, or the held-out MAE
 * got worse (without `force`). With no held-out calls the MAE is measured on the training calls (said so).
 */
export async function refitCsat(o: RefitOptions): Promise<RefitResult> {
  const current = loadCsatWeights(o.out).weights;
  const samples = await loadSamples(o.db, o);
  const base = { n: samples.length, train: 0, test: 0, maeBefore: null, maeAfter: null };
  if (!samples.length) {
    o.print('No calls with a stated CSAT score (enable the survey on an agent: csatSurvey.enabled). Nothing to fit; weights unchanged.');
    return { ...base, written: false, reason: 'no_stated_scores' };
  }
  if (samples.length < o.minCalls) {
    o.print(`Only ${samples.length} calls with a stated CSAT score (need ${o.minCalls}, --min-calls). Weights unchanged.`);
    return { ...base, written: false, reason: 'too_few' };
  }
  const { train, test } = splitHoldout(samples, o.holdout);
  const fitOn = train.length ? train : test;
  const evalOn = test.length ? test : fitOn;
  const fitted = fitCsatWeights(fitOn, { lambda: o.lambda, prior: current });
  const version = fittedVersion(fitted, o.now);
  const next: CsatWeights = { version, ...fitted };
  const maeBefore = csatMae(evalOn, current);
  const maeAfter = csatMae(evalOn, next);
  o.print(`Calls with a stated score: ${samples.length} (train ${fitOn.length}, held out ${test.length}${test.length ? '' : ': MAE measured on the training calls'}); ridge λ = ${o.lambda}.`);
  o.print(`Held-out MAE: before ${fmt(maeBefore)} (${csatMethod(current)}), after ${fmt(maeAfter)} (${csatMethod(next)}).`);
  o.print(`  ${'feature'.padEnd(18)} ${'before'.padStart(8)} ${'after'.padStart(8)}`);
  o.print(`  ${'intercept'.padEnd(18)} ${current.intercept.toFixed(3).padStart(8)} ${next.intercept.toFixed(3).padStart(8)}`);
  for (const f of CSAT_FEATURES) o.print(`  ${f.padEnd(18)} ${current.weights[f].toFixed(3).padStart(8)} ${next.weights[f].toFixed(3).padStart(8)}`);
  const result = { ...base, train: fitOn.length, test: test.length, maeBefore, maeAfter };
  if (maeBefore !== null && maeAfter !== null && maeAfter > maeBefore && !o.force) {
    o.print('The fitted weights do worse on the held-out calls: not written (--force writes them anyway).');
    return { ...result, written: false, reason: 'worse' };
  }
  const file: CsatWeightsFile = {
    ...next,
    fit: { at: o.now.toISOString(), calls: samples.length, train: fitOn.length, heldOut: test.length, lambda: o.lambda, maeBefore, maeAfter, previousVersion: current.version },
  };
  mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(file, null, 2)}\n`);
  o.print(`Wrote ${o.out} (${version}). Restart the workers and the server to score new calls with it.`);
  return { ...result, written: true, file };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      lambda: { type: 'string', default: '1' },
      holdout: { type: 'string', default: '0.2' },
      'min-calls': { type: 'string', default: '30' },
      from: { type: 'string' },
      to: { type: 'string' },
      agent: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string, ok: (n: number) => boolean) => {
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${name} ${v}: out of range`);
    return n;
  };
  const date = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`--${name} ${v}: not an ISO 8601 date`);
    return d;
  };
  const { loadConfig } = await import('../src/config');
  const { createDb } = await import('../src/db/knex');
  const db = createDb(loadConfig().databaseUrl);
  try {
    await refitCsat({
      db,
      out: values.out ?? (process.env.CSAT_WEIGHTS_FILE || DEFAULT_CSAT_WEIGHTS_FILE),
      lambda: num('lambda', values.lambda, (n) => n >= 0),
      holdout: num('holdout', values.holdout, (n) => n >= 0 && n < 1),
      minCalls: num('min-calls', values['min-calls'], (n) => n >= 1 && Number.isInteger(n)),
      force: values.force,
      from: date('from', values.from),
      to: date('to', values.to),
      agentId: values.agent,
      now: new Date(),
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`refit-csat: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
