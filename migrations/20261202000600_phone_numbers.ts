import type { Knex } from 'knex';

/** Phone numbers managed over the API (`/api/phone-numbers`): an optional human label per number ("Support line, UK"). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('phone_numbers', (t) => {
    t.string('label', 100).nullable();
    t.index(['agent_id']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('phone_numbers', (t) => {
    t.dropIndex(['agent_id']);
    t.dropColumn('label');
  });
}
