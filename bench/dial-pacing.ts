/**
 * `dial_pacing_error_ms_p95`: how far apart a campaign's dials actually start versus the intended 1/cps spacing, with
 * TWO dispatchers (different owner ids) sharing one database and the Redis pacer — the production path
 * (src/campaigns/dispatcher.ts, DialPacer) with a recording dialer in place of Twilio (it ends each call at once).
 *
 * `npx tsx bench/dial-pacing.ts [postgres://…/admin-db] [redis://…]` creates a scratch database, migrates it, runs a
 * campaign of 60 contacts at CPS 5 (200 ms spacing; max concurrency 10 so pacing, not concurrency, limits), and prints
 * one JSON line per figure: the p95/p50/max of |actual gap − intended gap| between consecutive dials (ms), and the
 * dispatcher decisions (claims) per second. Drops the database and its Redis keys. The window is every day
 * 00:00–23:59 UTC (a run crossing 23:59 UTC stalls for a minute).
 */
import { Client } from 'pg';
import Redis from 'ioredis';
import { createDb, migrateLatest } from '../src/db/knex';
import { DispatchRepo } from '../src/db/dispatch';
import { Dispatcher, type Dialer } from '../src/campaigns/dispatcher';
import { DialPacer } from '../src/campaigns/pacing';
import { decideRetry } from '../src/campaigns/retry';
import { emit, progress, round, summarize } from './stats';

const ADMIN = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.argv[3] ?? 'redis://127.0.0.1:6379';
const NAME = `callcenter_bench_pacing_${process.pid}`;
const CONTACTS = 60;
const CPS = 5;

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${NAME}"`);
  const db = createDb(ADMIN.replace(/\/[^/]*$/, `/${NAME}`), { min: 0, max: 10 });
  const redis = new Redis(REDIS);
  const prefix = `bench-pacing-${process.pid}`;
  try {
    await migrateLatest(db);
    await db('agents').insert({ id: 'bench', name: 'Bench', system_prompt: 'x', first_message: 'Hi', default_language: 'en', languages: ['en'], is_default: false });
    const always = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59', blackoutDates: [] };
    await db('campaigns').insert({
      id: 'bench-pacing', name: 'pacing', agent_id: 'bench', state: 'running', caller_ids: JSON.stringify([{ number: '+15550000001', dailyCap: null }]),
      window: JSON.stringify(always), max_concurrent: 10, cps: CPS, retry: JSON.stringify({ maxAttempts: 1, delaysSeconds: { busy: [], noAnswer: [], failed: [], voicemail: [] } }),
    });
    await db('campaign_contacts').insert(Array.from({ length: CONTACTS }, (_, i) => ({ campaign_id: 'bench-pacing', phone: `+1415${String(5_550_000 + i)}`, timezones: ['UTC'] })));
    const repo = new DispatchRepo(db);
    const starts: number[] = [];
    const dialer: Dialer = {
      async dial(attemptId, o) {
        starts.push(performance.timeOrigin + performance.now());
        const begun = await repo.beginSending(attemptId, new Date(), async () => '+15550000001', o?.owner);
        if ('refused' in begun) throw new Error(begun.refused);
        await repo.settle(attemptId, { outcome: 'completed', status: 'completed', now: new Date() }, decideRetry);
        return { callSid: `CA${attemptId.replace(/-/g, '')}` };
      },
    };
    const mk = (owner: string) => new Dispatcher({ repo, dialer, pacer: new DialPacer(redis, prefix), owner, leaseMs: 60_000, intervalMs: 250, globalMax: 100 });
    const ds = [mk('bench-a'), mk('bench-b')];
    const t0 = Date.now();
    ds.forEach((d) => d.start());
    progress(`dialing ${CONTACTS} contacts at CPS ${CPS} with two dispatchers`);
    while (starts.length < CONTACTS && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(ds.map((d) => d.stop()));
    const elapsedS = (Date.now() - t0) / 1000;
    const sorted = [...starts].sort((a, b) => a - b);
    const intended = 1000 / CPS;
    const errors = sorted.slice(1).map((t, i) => Math.abs(t - sorted[i] - intended));
    const s = summarize(errors);
    emit({ name: 'dial_pacing_error_ms_p95', value: round(s.p95), unit: 'ms', p50: round(s.p50), max: round(s.max), dials: sorted.length, cps: CPS, dispatchers: 2 });
    progress(`paced run took ${round(elapsedS)} s`);

    // Decisions/s: claims (count + claim under the advisory lock, attempt row) with no pacing, two dispatchers.
    const N = 1_000;
    await db('campaigns').where({ id: 'bench-pacing' }).update({ state: 'completed' });
    await db('campaigns').insert({
      id: 'bench-decisions', name: 'decisions', agent_id: 'bench', state: 'running', caller_ids: JSON.stringify([{ number: '+15550000001', dailyCap: null }]),
      window: JSON.stringify(always), max_concurrent: N, cps: 100, retry: JSON.stringify({ maxAttempts: 1, delaysSeconds: { busy: [], noAnswer: [], failed: [], voicemail: [] } }),
    });
    await db('campaign_contacts').insert(Array.from({ length: N }, (_, i) => ({ campaign_id: 'bench-decisions', phone: `+1416${String(5_550_000 + i)}`, timezones: ['America/New_York'] })));
    let dialed = 0;
    const quick: Dialer = { dial: async () => ({ callSid: `CA${++dialed}` }) };
    const fast = ['bench-c', 'bench-d'].map((owner) => new Dispatcher({ repo, dialer: quick, pacer: null, owner, leaseMs: 600_000, intervalMs: 60_000, globalMax: N }));
    const t1 = Date.now();
    let claims = 0;
    while (claims < N) {
      const r = await Promise.all(fast.map((d) => d.tick()));
      const n = r.reduce((a, x) => a + x.claimed, 0);
      if (!n) break;
      claims += n;
    }
    await Promise.all(fast.map((d) => d.settled()));
    emit({ name: 'dispatcher_decisions_per_s', value: round(claims / ((Date.now() - t1) / 1000)), unit: '1/s', claims, dispatchers: 2, note: 'unpaced; each claim = window check + count + claim + attempt row in one transaction' });
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${NAME}"`);
    await admin.end();
  }
}

void main();
