import type { Knex } from 'knex';

/**
 * Heard vs unheard (issue 12): a cut agent turn keeps, beside `text` (what the caller heard), `unheard_text` — the
 * rest of the reply the agent had at the cut (queued sentences, the LLM's sentence in progress). Null for every
 * other turn, and for turns stored before this migration.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_turns', (t) => {
    t.text('unheard_text').nullable();
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_turns', (t) => {
    t.dropColumn('unheard_text');
  });
}
