import { loadConfig } from '../config';
import { runMain } from '../process-lifecycle';
import { createLogger } from '../logger';
import { createDb } from '../db/knex';
import { ensureDatabase, migrateAndSeed } from '../db/setup';
import { buildProviders } from '../providers/registry';

/**
 * `npm run migrate` (`node dist/src/cli/migrate.js`; `npm run migrate:dev` runs the source with tsx): create the database
 * if missing, apply migrations, seed the demo agent (idempotent).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'migrate');
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    // Seed the knowledge into the store calls will search (Pinecone / OpenAI embeddings when configured).
    const { embedder, vectors } = buildProviders(config, { db, logger });
    const r = await migrateAndSeed(db, { embedder, vectors });
    logger.info({ applied: r.applied, agentId: r.agentId }, 'database migrated and seeded');
  } finally {
    await db.destroy();
  }
}

runMain(main);
