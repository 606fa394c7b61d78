import type { Knex } from 'knex';

/**
 * The campaign API's additions: single calls (`POST /api/calls`) keep the client's `Idempotency-Key` and a SHA-256
 * of the request body on their `call_attempts` row (a repeat with the key returns the first answer; another body
 * under the same key is a 422), and contacts are found by phone across campaigns (a number added to the DNC list
 * suppresses its pending contacts in every campaign).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_attempts', (t) => {
    t.string('idempotency_key', 200).unique();
    t.string('request_hash', 64);
  });
  await knex.schema.alterTable('campaign_contacts', (t) => {
    t.index(['phone']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('campaign_contacts', (t) => {
    t.dropIndex(['phone']);
  });
  await knex.schema.alterTable('call_attempts', (t) => {
    t.dropColumn('request_hash');
    t.dropColumn('idempotency_key');
  });
}
