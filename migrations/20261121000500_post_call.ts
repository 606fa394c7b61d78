import type { Knex } from 'knex';

/** Post-call results: CSAT score and CRM webhook delivery. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('call_csat', (t) => {
    t.string('call_sid', 64).primary().references('calls.call_sid').onDelete('CASCADE');
    t.integer('score').notNullable();
    t.string('method', 64).notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE call_csat ADD CONSTRAINT call_csat_score_range CHECK (score BETWEEN 1 AND 5)');
  await knex.schema.createTable('crm_deliveries', (t) => {
    t.string('call_sid', 64).primary().references('calls.call_sid').onDelete('CASCADE');
    t.string('webhook_id', 100).notNullable(); // Standard Webhooks webhook-id, stable across retries
    t.string('status', 16).notNullable().defaultTo('pending'); // pending | delivered | failed | skipped
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status_code');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamps(true, true);
  });
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('crm_deliveries');
  await knex.schema.dropTable('call_csat');
}
