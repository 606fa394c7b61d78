import type { Knex } from 'knex';

/**
 * Caller turns the STT did not understand (its confidence under STT_MIN_CONFIDENCE: another language, or
 * unintelligible speech): flagged, so supervisors and reports can find them. False for every existing turn.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_turns', (t) => {
    t.boolean('not_understood').notNullable().defaultTo(false);
  });
}

/** Reverts {@link up}: drops what it added. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_turns', (t) => {
    t.dropColumn('not_understood');
  });
}
