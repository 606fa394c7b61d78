import knexFactory, { type Knex } from 'knex';
import { migrationSource } from '../../migrations';

/** Creates the knex instance (pg client). `databaseUrl` is a postgres:// connection string. */
export function createDb(databaseUrl: string, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({ client: 'pg', connection: databaseUrl, pool });
}

/** Applies all pending migrations (idempotent). Returns the names applied in this run. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied as string[];
}
