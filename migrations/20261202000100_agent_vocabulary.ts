import type { Knex } from 'knex';

/**
 * Domain vocabulary: words an agent's callers use that STT mishears (product names, places), for the light
 * post-correction of caller transcripts. Empty by default, which turns the correction off.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.specificType('vocabulary', 'text[]').notNullable().defaultTo('{}');
  });
}

/** Reverts {@link up}: drops what it added. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('vocabulary');
  });
}
