import type { Knex } from 'knex';

/**
 * Call control and tools: per-agent DTMF menu, per-provider TTS voices and HTTP tools; on calls, the transfer
 * (target, reason, summary) and why the agent ended the call.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.jsonb('dtmf_menu').notNullable().defaultTo(JSON.stringify({ '0': 'transfer' }));
    t.jsonb('tts_voices').notNullable().defaultTo('{}');
    t.jsonb('tools').notNullable().defaultTo('[]');
  });
  await knex.schema.alterTable('calls', (t) => {
    t.jsonb('transfer');
    t.string('end_reason', 48);
  });
}

/** Reverts {@link up}: drops what it added. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calls', (t) => {
    t.dropColumn('end_reason');
    t.dropColumn('transfer');
  });
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('tools');
    t.dropColumn('tts_voices');
    t.dropColumn('dtmf_menu');
  });
}
