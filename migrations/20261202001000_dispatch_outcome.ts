import type { Knex } from 'knex';

/**
 * Dispatch bookkeeping: `call_attempts.outcome` is how the attempt ended for the retry policy (completed | voicemail |
 * busy | no-answer | failed | canceled | opted-out | fax | unknown …); null while the attempt is live. Set once (the
 * first terminal report wins), so a retried callback never settles an attempt twice. Also indexes the dispatcher's
 * in-flight count and lease-expiry scan.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('call_attempts', (t) => {
    t.string('outcome', 24);
    t.index(['contact_id', 'attempt_no']);
    t.index(['from_number', 'requested_at']);
  });
  await knex.schema.alterTable('campaign_contacts', (t) => {
    t.index(['state', 'lease_expires_at']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('campaign_contacts', (t) => {
    t.dropIndex(['state', 'lease_expires_at']);
  });
  await knex.schema.alterTable('call_attempts', (t) => {
    t.dropIndex(['from_number', 'requested_at']);
    t.dropIndex(['contact_id', 'attempt_no']);
    t.dropColumn('outcome');
  });
}
