import type { Knex } from 'knex';

/**
 * Native CRM connectors (issue 13 §7–9):
 * - `crm_connectors`: one configured CRM (kind hubspot | salesforce), its non-secret settings (jsonb, e.g. a HubSpot
 *   `basePath` override or a Salesforce `instanceUrl`), its credentials sealed with AES-256-GCM (`credentials_enc`,
 *   src/webhooks/secret-box.ts format), and the last "test connection" result.
 * - `crm_connector_deliveries`: one row per call × connector (status pending | delivered | failed, the CRM's activity
 *   id once logged, attempts, last error), so a retried job never logs the call twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('crm_connectors', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.string('kind', 16).notNullable();
    t.string('name', 100).notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.jsonb('settings').notNullable().defaultTo('{}');
    t.text('credentials_enc').notNullable();
    t.timestamp('last_test_at', { useTz: true });
    t.jsonb('last_test_result');
    t.timestamps(true, true);
  });
  await knex.raw(`ALTER TABLE crm_connectors ADD CONSTRAINT crm_connectors_kind CHECK (kind IN ('hubspot', 'salesforce'))`);
  await knex.schema.createTable('crm_connector_deliveries', (t) => {
    t.string('call_sid', 64).notNullable().references('calls.call_sid').onDelete('CASCADE');
    t.uuid('connector_id').notNullable().references('crm_connectors.id').onDelete('CASCADE');
    t.string('status', 16).notNullable().defaultTo('pending');
    t.string('activity_id', 64);
    t.string('contact_id', 64);
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamps(true, true);
    t.primary(['call_sid', 'connector_id']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('crm_connector_deliveries');
  await knex.schema.dropTable('crm_connectors');
}
