import type { Knex } from 'knex';

/** Agents (who answers) and the phone numbers routed to them. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agents', (t) => {
    t.string('id', 64).primary();
    t.string('name', 200).notNullable();
    t.text('system_prompt').notNullable();
    t.text('first_message').notNullable();
    t.string('default_language', 8).notNullable().defaultTo('en');
    t.specificType('languages', 'text[]').notNullable().defaultTo('{en}');
    /** TTS voice per ISO 639-1 language, e.g. {"en":"en-us"}. */
    t.jsonb('voices').notNullable().defaultTo('{}');
    t.specificType('intents', 'text[]').notNullable().defaultTo('{}');
    t.string('handoff_number', 32);
    t.boolean('is_default').notNullable().defaultTo(false);
    t.timestamps(true, true);
  });
  await knex.raw('CREATE UNIQUE INDEX agents_one_default ON agents (is_default) WHERE is_default');
  await knex.schema.createTable('phone_numbers', (t) => {
    t.string('e164', 32).primary();
    t.string('agent_id', 64).notNullable().references('agents.id').onDelete('CASCADE');
    t.timestamps(true, true);
  });
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('phone_numbers');
  await knex.schema.dropTable('agents');
}
