import type { Knex } from 'knex';

/**
 * Signed event webhooks (issue 13 §1–3):
 * - `webhook_endpoints`: URL, subscribed event types, enabled flag, the Standard Webhooks secret encrypted at rest
 *   (AES-256-GCM, `secret_enc`), the previous secret during a rotation's 24 h overlap, and why it was disabled.
 * - `webhook_sequences`: the last sequence number per subject (a call's events, a campaign's events).
 * - `webhook_outbox`: one row per event, written in the transaction of the state change it reports; `relayed_at`
 *   is set once its delivery jobs are in the queue. `target_endpoint_id` is set on a replay row (one endpoint).
 *   `dedupe_key` makes an event that may be emitted twice (a retried job) land once.
 * - `webhook_deliveries`: one per outbox row × endpoint (state pending | delivered | dead), and
 *   `webhook_delivery_attempts`: one row per HTTP attempt (status, latency ms, response excerpt ≤ 1 KB, error).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('url').notNullable();
    t.string('description', 200);
    t.specificType('event_types', 'text[]').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('secret_enc').notNullable();
    t.text('previous_secret_enc');
    t.timestamp('previous_secret_expires_at', { useTz: true });
    t.timestamp('failing_since', { useTz: true });
    t.text('disabled_reason');
    t.timestamp('disabled_at', { useTz: true });
    t.timestamps(true, true);
  });
  await knex.schema.createTable('webhook_sequences', (t) => {
    t.string('subject_kind', 16).notNullable();
    t.string('subject_id', 64).notNullable();
    t.integer('last').notNullable();
    t.primary(['subject_kind', 'subject_id']);
  });
  await knex.schema.createTable('webhook_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('event_id', 64).notNullable();
    t.string('type', 48).notNullable();
    t.string('subject_kind', 16).notNullable();
    t.string('subject_id', 64).notNullable();
    t.integer('sequence').notNullable();
    t.jsonb('payload').notNullable();
    t.string('dedupe_key', 160).unique();
    t.uuid('target_endpoint_id').references('webhook_endpoints.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('relayed_at', { useTz: true });
    t.index(['event_id']);
  });
  await knex.raw('CREATE INDEX webhook_outbox_unrelayed ON webhook_outbox (id) WHERE relayed_at IS NULL');
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('outbox_id').notNullable().references('webhook_outbox.id').onDelete('CASCADE');
    t.uuid('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.string('status', 16).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status_code');
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('delivered_at', { useTz: true });
    t.unique(['outbox_id', 'endpoint_id']);
    t.index(['endpoint_id', 'id']);
    t.index(['status', 'updated_at']);
  });
  await knex.schema.createTable('webhook_delivery_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('delivery_id').notNullable().references('webhook_deliveries.id').onDelete('CASCADE');
    t.integer('attempt_no').notNullable();
    t.timestamp('at', { useTz: true }).notNullable();
    t.integer('status_code');
    t.integer('latency_ms').notNullable();
    t.string('response_excerpt', 1024);
    t.text('error');
    t.index(['delivery_id', 'id']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_delivery_attempts');
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhook_outbox');
  await knex.schema.dropTable('webhook_sequences');
  await knex.schema.dropTable('webhook_endpoints');
}
