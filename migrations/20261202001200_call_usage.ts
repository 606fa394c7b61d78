import type { Knex } from 'knex';

/**
 * Usage and cost (issue 12): `call_usage` holds what each provider served a call (one row per call, provider and
 * kind: STT seconds, LLM prompt / completion tokens, TTS characters, telephony minutes) with its estimated cost in
 * USD from the price table at the time it was written; `recorded_at` places it in a budget month.
 * `usage_budget_alerts` remembers which budget levels (`warning` 80 %, `exceeded` 100 %) were already announced for a
 * provider in a month, so admins are warned once per month and provider, however many servers check.
 * Indexes for the overview analytics (`GET /api/analytics/overview`, < 1 s on 100,000 calls): agent turns with
 * timings by creation time (latency percentiles), and calls still live (no `ended_at`) by start.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('call_usage', (t) => {
    t.bigIncrements('id');
    t.string('call_sid', 64).notNullable().references('calls.call_sid').onDelete('CASCADE');
    t.string('provider', 64).notNullable();
    t.string('kind', 24).notNullable();
    t.double('quantity').notNullable();
    t.string('unit', 16).notNullable();
    t.decimal('cost_usd', 14, 6).notNullable().defaultTo(0);
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['call_sid', 'provider', 'kind']);
    t.index(['recorded_at', 'provider']);
  });
  await knex.raw("ALTER TABLE call_usage ADD CONSTRAINT call_usage_quantity_nonnegative CHECK (quantity >= 0 AND cost_usd >= 0)");
  await knex.schema.createTable('usage_budget_alerts', (t) => {
    t.string('provider', 64).notNullable();
    t.date('month').notNullable();
    t.string('level', 16).notNullable();
    t.decimal('spent_usd', 14, 6).notNullable();
    t.decimal('budget_usd', 14, 6).notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['provider', 'month', 'level']);
  });
  await knex.raw("CREATE INDEX call_turns_agent_timings ON call_turns (created_at) INCLUDE (timings) WHERE role = 'agent' AND timings IS NOT NULL");
  await knex.raw('CREATE INDEX calls_live ON calls (started_at) WHERE ended_at IS NULL');
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX calls_live');
  await knex.raw('DROP INDEX call_turns_agent_timings');
  await knex.schema.dropTable('usage_budget_alerts');
  await knex.schema.dropTable('call_usage');
}
