import { loadConfig } from '../config';
import { runMain } from '../process-lifecycle';
import { createLogger } from '../logger';
import { createDb } from '../db/knex';
import { ensureDatabase, migrateAndSeed } from '../db/setup';

/** `npm run migrate`: create the database if missing, apply migrations, seed the demo agent (idempotent). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'migrate');
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  try {
    const r = await migrateAndSeed(db);
    logger.info({ applied: r.applied, agentId: r.agentId }, 'database migrated and seeded');
  } finally {
    await db.destroy();
  }
}

runMain(main);
