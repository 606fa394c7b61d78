import type { Knex } from 'knex';

/**
 * Knowledge ingestion as a job: the document's extracted text (`source_text`, read by the worker instead of being
 * carried through Redis) and a `version` bumped on every (re-)upload, so each upload gets its own job id and a
 * stale job can tell that a newer upload superseded it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('knowledge_documents', (t) => {
    t.text('source_text');
    t.integer('version').notNullable().defaultTo(1);
  });
}

/** Reverts {@link up}: drops what it added. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('knowledge_documents', (t) => {
    t.dropColumn('version');
    t.dropColumn('source_text');
  });
}
