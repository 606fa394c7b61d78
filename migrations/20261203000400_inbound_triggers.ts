import type { Knex } from 'knex';

/**
 * Triggers in (issue 13 §6): `inbound_triggers` — a HubSpot workflow webhook or a Standard Webhooks sender that
 * enrolls a contact into a campaign or places a call. `secret_sealed` is the signing secret (HubSpot app client
 * secret, or our generated `whsec_…`) sealed with src/webhooks/secret-box.ts. `action` jsonb:
 * `{ type: 'enroll', campaignId }` | `{ type: 'call', agentId, fromNumber? }`; `mapping` jsonb:
 * `{ phone: 'properties.phone', variables?: { first_name: 'properties.firstname' }, name? }` (dotted paths).
 * `inbound_trigger_deliveries` dedupes deliveries for 24 h by (trigger, delivery key): HubSpot's delivery id when
 * sent, a body hash otherwise, the `webhook-id` for Standard Webhooks.
 * `contact_import_keys`: `Idempotency-Key` of JSON contact imports (`POST /api/campaigns/:id/contacts`), written in
 * the import's transaction with the SHA-256 of the body and the result answered again on a repeat.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inbound_triggers', (t) => {
    t.uuid('id').primary();
    t.string('name', 200).notNullable();
    t.string('kind', 16).notNullable();
    t.text('secret_sealed').notNullable();
    t.jsonb('action').notNullable();
    t.jsonb('mapping').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE inbound_triggers ADD CONSTRAINT inbound_triggers_kind CHECK (kind IN ('hubspot', 'standard'))`);
  await knex.schema.createTable('inbound_trigger_deliveries', (t) => {
    t.uuid('trigger_id').notNullable().references('id').inTable('inbound_triggers').onDelete('CASCADE');
    t.string('delivery_key', 200).notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.jsonb('outcome').nullable();
    t.primary(['trigger_id', 'delivery_key']);
    t.index(['received_at'], 'inbound_trigger_deliveries_received');
  });
  await knex.schema.createTable('contact_import_keys', (t) => {
    t.string('campaign_id', 64).notNullable().references('id').inTable('campaigns').onDelete('CASCADE');
    t.string('idempotency_key', 200).notNullable();
    t.string('request_hash', 64).notNullable();
    t.jsonb('result').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['campaign_id', 'idempotency_key']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contact_import_keys');
  await knex.schema.dropTable('inbound_trigger_deliveries');
  await knex.schema.dropTable('inbound_triggers');
}
