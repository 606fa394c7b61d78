import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { CSAT_FEATURES, DEFAULT_CSAT_WEIGHTS, csatFeatures, csatRaw, scoreCsat, type CsatWeights } from '../../../src/analytics/csat';
import { loadCsatWeights } from '../../../src/analytics/csat-weights';
import { AgentsRepo } from '../../../src/db/agents';
import { refitCsat } from '../../../scripts/refit-csat';
import { setupTestDb, testDatabaseUrl, uniqueSid } from '../../helpers/db';
import { mulberry32 as rng } from '../../helpers/prng';

const ROOT = path.resolve(__dirname, '../../..');

/** The weights the synthetic callers' stated scores follow (rounded to integers, clamped to 1..5). */
// Chosen apart from the hand-set weights, and so that raw scores mostly stay inside 1..5 (clamping would bias the fit).
const TRUE: CsatWeights = { version: 'truth', intercept: 2.7, weights: { sentiment: 0.8, resolution: 1.6, repeatedFallbacks: -0.2, handoff: -1.2, closingCourtesy: 0.9, shortCall: -0.2, longCall: -0.6 } };

const POSITIVE = ['This is great, I love it', 'Awesome, that is perfect', 'Good, that is nice', 'Excellent service'];
const NEGATIVE = ['This is terrible and awful', 'I hate this stupid system', 'That is bad', 'What a horrible mess'];
const NEUTRAL = ['What time do you open on Saturday', 'I have a question about my order', 'Where is the store'];

const run = (args: string[], env: Record<string, string>) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'scripts/refit-csat.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });

/** `npm run csat:refit` against real PostgreSQL: calls whose callers' stated scores follow known weights. */
describe('scripts/refit-csat.ts (real PostgreSQL)', () => {
  let db: Knex;
  let dir: string;
  const agentId = uniqueSid('refit-');

  beforeAll(async () => {
    db = await setupTestDb();
    dir = mkdtempSync(path.join(os.tmpdir(), 'refit-csat-'));
    await new AgentsRepo(db).upsert({ id: agentId, name: 'refit', systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
    const r = rng(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const callRows: Array<Record<string, unknown>> = [];
    const turnRows: Array<Record<string, unknown>> = [];
    const csatRows: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 400; i++) {
      const sid = uniqueSid(`CA${i}-`);
      const mood = r();
      const say = () => pick(mood < 0.35 ? NEGATIVE : mood < 0.7 ? POSITIVE : NEUTRAL);
      const turns: Array<{ role: 'agent' | 'caller'; text: string; language: string; startMs: number; endMs: number; intent: null }> = [];
      const add = (role: 'agent' | 'caller', text: string) => turns.push({ role, text, language: 'en', startMs: turns.length * 3_000, endMs: turns.length * 3_000 + 2_000, intent: null });
      add('agent', 'Hello, thanks for calling. How can I help?');
      const fallbackRate = r() < 0.5 ? 0 : r();
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) {
        add('caller', say());
        add('agent', r() < fallbackRate ? "I'm sorry, I didn't catch that." : 'We are open from nine to five.');
      }
      if (r() < 0.25) add('caller', 'Let me speak to a human please');
      add('caller', r() < 0.5 ? 'Thanks, goodbye' : 'Okay');
      const durationMs = r() < 0.15 ? 10_000 : r() < 0.18 ? 11 * 60_000 : 120_000;
      const startedAt = new Date(Date.UTC(2040, 0, 1) + i * 60_000);
      const x = csatFeatures({ turns, durationMs, eventTypes: [] }).features;
      const stated = Math.min(5, Math.max(1, Math.round(csatRaw(x, TRUE))));
      callRows.push({ call_sid: sid, agent_id: agentId, direction: 'inbound', from_number: '+1', to_number: '+2', status: 'completed', started_at: startedAt, ended_at: new Date(startedAt.getTime() + durationMs) });
      turns.forEach((t, seq) => turnRows.push({ call_sid: sid, seq: seq + 1, role: t.role, text: t.text, language: 'en', start_ms: t.startMs, end_ms: t.endMs }));
      csatRows.push({ call_sid: sid, score: scoreCsat({ turns, durationMs }).score, method: 'test', stated_score: stated, stated_at: startedAt });
    }
    await db('calls').insert(callRows);
    await db.batchInsert('call_turns', turnRows, 1000);
    await db('call_csat').insert(csatRows);
  }, 60_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db('calls').where({ agent_id: agentId }).delete();
    await db('agents').where({ id: agentId }).delete();
    await db.destroy();
  });

  it('fits the weights back within tolerance, improves the held-out MAE, and writes a file scoreCsat loads', async () => {
    const out = path.join(dir, 'weights.json');
    const lines: string[] = [];
    const now = new Date('2026-12-03T07:00:00Z');
    const r = await refitCsat({ db, out, lambda: 1, holdout: 0.25, minCalls: 30, agentId, now, print: (l) => lines.push(l) });
    expect(r).toMatchObject({ written: true, n: 400 });
    expect(r.test).toBeGreaterThan(60);
    expect(r.train + r.test).toBe(400);
    expect(r.maeAfter!).toBeLessThan(r.maeBefore! - 0.05);
    const loaded = loadCsatWeights(out);
    expect(loaded.source).toBe('file');
    expect(loaded.weights.version).toMatch(/^fit:2026-12-03\.[0-9a-f]{8}$/);
    for (const f of CSAT_FEATURES) expect({ f, err: Math.abs(loaded.weights.weights[f] - TRUE.weights[f]) < 0.3 }).toEqual({ f, err: true });
    expect(Math.abs(loaded.weights.intercept - TRUE.intercept)).toBeLessThan(0.3);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.fit).toMatchObject({ calls: 400, lambda: 1, previousVersion: 'default', maeBefore: r.maeBefore, maeAfter: r.maeAfter });
    expect(scoreCsat({ turns: [] }, loaded.weights).method).toBe(`heuristic-v2+${loaded.weights.version}`);
    expect(lines.join('\n')).toMatch(/Held-out MAE: before \d\.\d{3} \(heuristic-v2\+default\), after \d\.\d{3} \(heuristic-v2\+fit:2026-12-03\./);
  });

  it('fewer calls than --min-calls: says so and writes nothing', async () => {
    const out = path.join(dir, 'few.json');
    const lines: string[] = [];
    const r = await refitCsat({ db, out, lambda: 1, holdout: 0.2, minCalls: 1_000, agentId, now: new Date(), print: (l) => lines.push(l) });
    expect(r).toMatchObject({ written: false, reason: 'too_few', n: 400 });
    expect(lines.join('\n')).toMatch(/Only 400 calls with a stated CSAT score \(need 1000/);
    expect(existsSync(out)).toBe(false);
  });

  it('the script with no stated scores (another agent): says so, exits 0, writes nothing; a bad flag exits 1', async () => {
    const out = path.join(dir, 'none.json');
    const none = await run(['--agent', uniqueSid('nobody-'), '--out', out], { DATABASE_URL: testDatabaseUrl(), NODE_ENV: 'development', LOG_LEVEL: 'silent' });
    expect(none.out).toMatch(/No calls with a stated CSAT score/);
    expect(none.code).toBe(0);
    expect(existsSync(out)).toBe(false);
    const bad = await run(['--lambda=-1', '--out', out], { DATABASE_URL: testDatabaseUrl(), NODE_ENV: 'development', LOG_LEVEL: 'silent' });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/--lambda -1: out of range/);
    expect(DEFAULT_CSAT_WEIGHTS.version).toBe('default');
  }, 60_000);
});
