import type { Knex } from 'knex';

/**
 * Post-call analysis (issue 13 §4): each call's summary, disposition (src/domain/disposition.ts), the agent's
 * extracted fields and how they were produced (`analysis_method`, e.g. `llm:gpt-4o-mini` or `local:v1`), and when.
 * Agents get an optional JSON schema (`extraction_schema`, a JSON Schema object with `properties`) describing the
 * fields to extract. All nullable: calls analysed before this migration, or not yet, have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calls', (t) => {
    t.text('summary').nullable();
    t.string('disposition', 32).nullable();
    t.jsonb('extracted_fields').nullable();
    t.string('analysis_method', 64).nullable();
    t.timestamp('analyzed_at', { useTz: true }).nullable();
    t.index(['disposition'], 'calls_disposition');
  });
  await knex.schema.alterTable('agents', (t) => {
    t.jsonb('extraction_schema').nullable();
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('extraction_schema');
  });
  await knex.schema.alterTable('calls', (t) => {
    t.dropIndex(['disposition'], 'calls_disposition');
    t.dropColumn('summary');
    t.dropColumn('disposition');
    t.dropColumn('extracted_fields');
    t.dropColumn('analysis_method');
    t.dropColumn('analyzed_at');
  });
}
