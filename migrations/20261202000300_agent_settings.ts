import type { Knex } from 'knex';

/**
 * Per-agent settings for the management API (see src/domain/agent-settings.ts): greetings per language, provider,
 * LLM and endpointing overrides, a call-length cap, the outbound voicemail message and opt-out phrases, and
 * `archived_at` (an archived agent takes no new calls; calls keep referencing it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.jsonb('first_messages').notNullable().defaultTo('{}');
    t.jsonb('providers').notNullable().defaultTo('{}');
    t.jsonb('llm').notNullable().defaultTo('{}');
    t.jsonb('endpointing').notNullable().defaultTo('{}');
    t.integer('max_call_duration_ms').nullable();
    t.text('voicemail_message').nullable();
    t.specificType('opt_out_phrases', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('archived_at', { useTz: true }).nullable();
  });
}

/** Reverts {@link up}: drops what it added. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    for (const c of ['first_messages', 'providers', 'llm', 'endpointing', 'max_call_duration_ms', 'voicemail_message', 'opt_out_phrases', 'archived_at']) t.dropColumn(c);
  });
}
