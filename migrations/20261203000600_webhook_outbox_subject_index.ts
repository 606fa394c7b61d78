import type { Knex } from 'knex';

/**
 * Per-subject delivery order (src/webhooks/delivery-worker.ts) looks up, for every delivery, the earlier events of
 * the same subject (`WebhookOutboxRepo.earlierPending`): an index on (subject_kind, subject_id, sequence) keeps that an
 * index range scan however large the outbox grows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_outbox', (t) => {
    t.index(['subject_kind', 'subject_id', 'sequence'], 'webhook_outbox_subject_sequence');
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_outbox', (t) => {
    t.dropIndex(['subject_kind', 'subject_id', 'sequence'], 'webhook_outbox_subject_sequence');
  });
}
