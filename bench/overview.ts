/**
 * The overview analytics on a large database (issue 12: `GET /api/analytics/overview` answers in < 1 s on 100,000 calls).
 *
 * `npx tsx bench/overview.ts [--calls 100000] [--admin postgres://…/postgres] [--keep]` creates a scratch database
 * (`callcenter_bench_overview_<pid>`), migrates it and seeds, server-side with `generate_series` (seeded `random()`):
 * N calls spread over the last 30 days (90 % answered, 10 % abandoned, 12 % transferred, languages en/es/fr/de,
 * 8 intents, 1 % still live), 3 caller + 3 agent turns per answered call (agent turns with per-stage timings),
 * a CSAT score for 70 % of the calls and 4 usage rows per call; then VACUUM ANALYZE. It times the real route
 * (route table + express over HTTP, a viewer principal) for the last 7 days and for the whole 30 days, 5 runs each
 * after one warm-up, and prints one JSON line per range (`{ name: 'overview_ms', range, p50, max, calls, turns }`).
 * The database is dropped at the end unless `--keep`.
 */
import os from 'node:os';
import express from 'express';
import { Client } from 'pg';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../src/db/knex';
import { OverviewRepo } from '../src/db/overview';
import { analyticsRoutes } from '../src/http/api/analytics';
import { mountRoutes } from '../src/http/api/route';
import { parseArgs } from '../src/cli/args';

const DAY_MS = 86_400_000;

async function seed(db: Knex, calls: number, now: Date): Promise<void> {
  await db('agents').insert({ id: 'bench', name: 'bench', system_prompt: 'x', first_message: 'x' });
  await db.raw('ALTER TABLE call_turns DISABLE TRIGGER USER'); // the transcript search document is not under test
  await db.raw('SELECT setseed(0.42)');
  await db.raw(
    `INSERT INTO calls (call_sid, agent_id, direction, from_number, to_number, status, stream_sid, language, intent, started_at, ended_at, transfer, end_reason)
     SELECT 'CA' || lpad(i::text, 32, '0'), 'bench', 'inbound', '+14155550100', '+18005550199',
            CASE WHEN live THEN 'in-progress' ELSE 'completed' END,
            CASE WHEN answered THEN 'MZ' || i ELSE NULL END,
            (ARRAY['en','en','en','es','fr','de'])[1 + (i % 6)],
            (ARRAY['hours','refund','billing','order_status','cancel','upgrade','address','human_handoff'])[1 + (i % 8)],
            started, CASE WHEN live THEN NULL ELSE started + interval '3 minutes' END,
            CASE WHEN transferred THEN '{"target":"+15005550006","reason":"asked","summary":"","at":"2026-01-01T00:00:00Z"}'::jsonb ELSE NULL END,
            CASE WHEN transferred THEN 'transfer' ELSE NULL END
     FROM (SELECT i, random() < 0.9 AS answered, random() < 0.12 AS transferred, i % 100 = 0 AS live,
                  ?::timestamptz - (i * (30 * 86400.0 / ?)) * interval '1 second' AS started
           FROM generate_series(1, ?) AS i) s`,
    [now.toISOString(), calls, calls],
  );
  // Live calls started within the last hours; everything else as seeded.
  await db.raw(`UPDATE calls SET started_at = ?::timestamptz - interval '30 minutes' WHERE ended_at IS NULL`, [now.toISOString()]);
  await db.raw(
    `INSERT INTO call_turns (call_sid, seq, role, text, language, start_ms, end_ms, intent, timings, created_at)
     SELECT c.call_sid, n, CASE WHEN n % 2 = 1 THEN 'caller' ELSE 'agent' END, 'turn text', c.language, n * 4000, n * 4000 + 3000, c.intent,
            CASE WHEN n % 2 = 0 THEN jsonb_build_object('endpointingMs', 500 + (random() * 400)::int, 'sttMs', 100 + (random() * 300)::int,
              'llmFirstTokenMs', 250 + (random() * 600)::int, 'ttsFirstByteMs', 80 + (random() * 200)::int, 'replyLatencyMs', 900 + (random() * 1500)::int) END,
            c.started_at + n * interval '4 seconds'
     FROM calls c CROSS JOIN generate_series(1, 6) AS n WHERE c.stream_sid IS NOT NULL`,
  );
  await db.raw(`INSERT INTO call_csat (call_sid, score, method) SELECT call_sid, 1 + (random() * 4.999)::int % 5, 'bench' FROM calls WHERE random() < 0.7`);
  await db.raw(
    `INSERT INTO call_usage (call_sid, provider, kind, quantity, unit, cost_usd, recorded_at)
     SELECT c.call_sid, u.provider, u.kind, u.q, u.unit, u.cost, c.started_at FROM calls c
     CROSS JOIN (VALUES ('openai.chat','llm_prompt',1200.0,'tokens',0.00018), ('openai.chat','llm_completion',150.0,'tokens',0.00009),
                        ('elevenlabs.tts','tts_characters',420.0,'characters',0.0168), ('twilio','telephony_inbound',3.0,'minutes',0.0255)) AS u(provider, kind, q, unit, cost)`,
  );
  await db.raw('VACUUM ANALYZE'); // what autovacuum does to a settled table (visibility map: index-only scans)
}

async function timeRoute(base: string, from: Date, to: Date, runs: number): Promise<{ p50: number; max: number; body: any }> {
  const url = `${base}/api/analytics/overview?from=${from.toISOString()}&to=${to.toISOString()}`;
  let body: any = null;
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(url);
    body = await res.json();
    if (res.status !== 200) throw new Error(`overview answered ${res.status}: ${JSON.stringify(body)}`);
    return performance.now() - t0;
  };
  await once(); // warm-up (connections, plans)
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  return { p50: Math.round(ms[Math.floor(ms.length / 2)]), max: Math.round(ms[ms.length - 1]), body };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { calls: 'string', admin: 'string', keep: 'boolean' });
  const calls = Number(args.calls ?? 100_000);
  const adminUrl = String(args.admin ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `callcenter_bench_overview_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const db = createDb(adminUrl.replace(/\/[^/]*$/, `/${name}`), { min: 1, max: 10 });
  const now = new Date();
  let server: import('node:http').Server | null = null;
  try {
    await migrateLatest(db);
    const t0 = performance.now();
    await seed(db, calls, now);
    const [{ n: turns }] = await db('call_turns').count({ n: '*' });
    process.stderr.write(`seeded ${calls} calls, ${turns} turns in ${Math.round(performance.now() - t0)} ms\n`);
    const app = express();
    app.use((req, _res, next) => {
      req.principal = { kind: 'user', id: 'bench', role: 'viewer', label: 'bench' };
      next();
    });
    app.use(mountRoutes(analyticsRoutes({ overview: new OverviewRepo(db), now: () => now })));
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server!.address() as import('node:net').AddressInfo).port;
    for (const days of [7, 30]) {
      const r = await timeRoute(`http://127.0.0.1:${port}`, new Date(now.getTime() - days * DAY_MS), new Date(now.getTime() + 1), 5);
      console.log(JSON.stringify({ name: 'overview_ms', range: `${days}d`, p50: r.p50, max: r.max, unit: 'ms', calls: r.body.totals.calls, dbCalls: calls, turns: Number(turns), liveNow: r.body.liveNow, loadAvg1m: +os.loadavg()[0].toFixed(1), cpus: os.cpus().length }));
    }
  } finally {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await db.destroy();
    if (!args.keep) await admin.query(`DROP DATABASE "${name}"`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
