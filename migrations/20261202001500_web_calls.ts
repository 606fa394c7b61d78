import type { Knex } from 'knex';

/**
 * Browser test calls (direction `web`): `calls.from_number` holds `web:<user id>` or `web:api_key:<key id>` and
 * `to_number` `agent:<agent id>` (agent ids are up to 64 characters), longer than the 32 characters an E.164 number
 * needed. Widening a varchar keeps every row and index as is (no table rewrite in PostgreSQL).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calls', (t) => {
    t.string('from_number', 80).notNullable().alter();
    t.string('to_number', 80).notNullable().alter();
  });
}

/** Reverts {@link up}: web calls are deleted first (their from/to do not fit 32 characters). */
export async function down(knex: Knex): Promise<void> {
  await knex('calls').where({ direction: 'web' }).delete();
  await knex.schema.alterTable('calls', (t) => {
    t.string('from_number', 32).notNullable().alter();
    t.string('to_number', 32).notNullable().alter();
  });
}
