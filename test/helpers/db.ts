import { Client } from 'pg';
import type { Knex } from 'knex';
import { createDb, migrateLatest } from '../../src/db/knex';
import { waitFor } from './async';

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Connection string of this Jest worker's own database (created on first use), so parallel workers never collide. */
export function testDatabaseUrl(): string {
  const worker = process.env.JEST_WORKER_ID ?? '0';
  // TEST_DB_PREFIX lets two Jest runs on one machine (e.g. two developers' checkouts) use separate databases.
  const prefix = (process.env.TEST_DB_PREFIX ?? '').replace(/[^a-z0-9_]/gi, '');
  return ADMIN_URL.replace(/\/[^/]*$/, `/callcenter_test_${prefix}${worker}`);
}

/** Creates (if needed) and migrates this worker's test database; returns a knex instance. Call `db.destroy()` after. */
export async function setupTestDb(): Promise<Knex> {
  const url = testDatabaseUrl();
  const name = url.slice(url.lastIndexOf('/') + 1);
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  } catch (err: any) {
    if (err?.code !== '42P04') throw err; // created concurrently
  } finally {
    await admin.end();
  }
  const db = createDb(url, { min: 0, max: 5 });
  await migrateLatest(db);
  return db;
}

/** A unique id for test rows (callSids etc.), so tests never depend on an empty table. */
export function uniqueSid(prefix: string): string {
  return `${prefix}${Date.now().toString(16)}${Math.random().toString(16).slice(2, 10)}`.slice(0, 34);
}

/**
 * The call's row once the server's session for it has ended: every row of the call is written and its post-call
 * jobs are enqueued (`post_call_enqueued_at`, set after the recorder's last write). A simulated caller returns when
 * its side of the stream closed; the server's last writes (transfer, end reason, final state) land just after, and
 * `ended_at` alone may come from the status callback. Polls with {@link waitFor}; throws after `timeoutMs`.
 */
export function endedCallRow(db: Knex, callSid: string, timeoutMs = 15_000): Promise<Record<string, any>> {
  return waitFor(`the end of call ${callSid}'s session`, () => db('calls').where({ call_sid: callSid }).whereNotNull('post_call_enqueued_at').first(), timeoutMs);
}
