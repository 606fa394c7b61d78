/**
 * What the transcript search trigger (migration 20261202000700_call_search) costs turn inserts.
 *
 * `npx tsx bench/call-search-writes.ts [postgres://…/admin-db]` creates a scratch database, migrates it, and times
 * (1) live-call writes: `CallsRepo.addTurn` one turn at a time, 40 calls × 120 turns (later turns append to a larger
 * document), and (2) one bulk INSERT of 20,000 turns — each with the search triggers disabled, then enabled, and
 * for reference with a per-turn GIN expression index instead. Prints one JSON line per run; drops the database.
 */
import { Client } from 'pg';
import { createDb, migrateLatest } from '../src/db/knex';
import { CallsRepo } from '../src/db/calls';
import type { Knex } from 'knex';

const ADMIN = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = `callcenter_bench_search_${process.pid}`;
const WORDS = 'hello thanks order refund invoice delivery tomorrow account password reset billing address card payment late package hours open monday friday weekend agent please help number email change cancel subscription plan price upgrade manager'.split(' ');

let seed = 7;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const sentence = (): string => Array.from({ length: 8 + Math.floor(rand() * 16) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');

async function createCalls(db: Knex, prefix: string, n: number): Promise<string[]> {
  const sids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  await db('calls').insert(sids.map((s) => ({ call_sid: s, agent_id: 'bench', direction: 'inbound', from_number: '+1', to_number: '+2', status: 'in-progress' })));
  return sids;
}

async function liveWrites(db: Knex, label: string): Promise<void> {
  const repo = new CallsRepo(db);
  const sids = await createCalls(db, `CL${label}`, 40);
  const perTurn: number[] = [];
  const late: number[] = [];
  for (let turn = 0; turn < 120; turn++) {
    for (const sid of sids) {
      const t0 = process.hrtime.bigint();
      await repo.addTurn(sid, { role: turn % 2 ? 'agent' : 'caller', text: sentence(), language: 'en', startMs: turn * 1000, endMs: turn * 1000 + 900 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      perTurn.push(ms);
      if (turn >= 100) late.push(ms);
    }
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)];
  console.log(JSON.stringify({ run: 'live addTurn', variant: label, turns: perTurn.length, meanMs: +(perTurn.reduce((a, b) => a + b, 0) / perTurn.length).toFixed(3), p50Ms: +q(perTurn, 0.5).toFixed(3), p99Ms: +q(perTurn, 0.99).toFixed(3), turns100to120MeanMs: +(late.reduce((a, b) => a + b, 0) / late.length).toFixed(3) }));
}

async function bulkWrites(db: Knex, label: string): Promise<void> {
  const sids = await createCalls(db, `CB${label}`, 1000);
  const rows = sids.flatMap((sid) => Array.from({ length: 20 }, (_, i) => ({ call_sid: sid, seq: i + 1, role: i % 2 ? 'agent' : 'caller', text: sentence(), language: 'en', start_ms: i, end_ms: i + 1 })));
  const t0 = process.hrtime.bigint();
  await db.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += 2000) await trx('call_turns').insert(rows.slice(i, i + 2000));
  });
  console.log(JSON.stringify({ run: 'bulk insert', variant: label, turns: rows.length, totalMs: +(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1) }));
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${NAME}"`);
  const db = createDb(ADMIN.replace(/\/[^/]*$/, `/${NAME}`), { min: 1, max: 2 });
  try {
    await migrateLatest(db);
    await db('agents').insert({ id: 'bench', name: 'bench', system_prompt: 'x', first_message: 'x' });
    await db.raw('ALTER TABLE call_turns DISABLE TRIGGER USER');
    await liveWrites(db, 'no-search');
    await bulkWrites(db, 'no-search');
    await db.raw('ALTER TABLE call_turns ENABLE TRIGGER USER');
    await liveWrites(db, 'call-document-trigger');
    await bulkWrites(db, 'call-document-trigger');
    await db.raw('ALTER TABLE call_turns DISABLE TRIGGER USER');
    await db.raw(`CREATE INDEX bench_turn_text ON call_turns USING gin (to_tsvector('simple', text))`);
    await liveWrites(db, 'per-turn-gin-index');
    await bulkWrites(db, 'per-turn-gin-index');
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE "${NAME}"`);
    await admin.end();
  }
}

void main();
