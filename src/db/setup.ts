import { Client } from 'pg';
import type { Knex } from 'knex';
import { migrateLatest } from './knex';
import { seedDemo } from './seed';
import { LocalHashEmbedder } from '../providers/embeddings/local-hash';
import { PostgresVectorStore } from '../providers/vector/postgres';
import type { Embedder, VectorStore } from '../providers/types';

/**
 * Creates the database named in `databaseUrl` if it does not exist (connecting to the server's `postgres`
 * database; needs CREATEDB). Safe to run concurrently.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  const probe = new Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err: any) {
    if (err?.code !== '3D000') throw err; // anything but "database does not exist"
  } finally {
    await probe.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err: any) {
    if (err?.code !== '42P04') throw err; // created concurrently
  } finally {
    await admin.end();
  }
}

/**
 * `npm run migrate`: applies migrations, then the idempotent demo seed (agent + knowledge base). The knowledge is
 * embedded and stored with the configured embedder and vector store (`knowledge`), by default the offline ones —
 * retrieval at call time must use the same pair, or it finds nothing.
 * @throws whatever migration or ingestion throws (a failed document is retried on the next run).
 */
export async function migrateAndSeed(db: Knex, knowledge?: { embedder: Embedder; vectors: VectorStore }): Promise<{ applied: string[]; agentId: string }> {
  const applied = await migrateLatest(db);
  const { agent } = await seedDemo(db, knowledge ?? { embedder: new LocalHashEmbedder(), vectors: new PostgresVectorStore(db) });
  return { applied, agentId: agent.id };
}
