import type { Knex } from 'knex';

/**
 * The audit log: who (a user, an API key or the bootstrap key) changed what and when, with the entity's state
 * before and after (secrets removed before they are written). Append-only; `GET /api/audit` reads it newest first.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('actor_kind').notNullable();
    t.text('actor_id').notNullable();
    t.text('actor_label').notNullable();
    t.text('action').notNullable();
    t.text('entity_type').notNullable();
    t.text('entity_id').notNullable();
    t.jsonb('before').nullable();
    t.jsonb('after').nullable();
    t.index(['entity_type', 'entity_id', 'at']);
    t.index(['at']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
}
