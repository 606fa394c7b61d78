import type { Knex } from 'knex';

/** Calls, their turns and their events. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('calls', (t) => {
    t.string('call_sid', 64).primary();
    t.string('account_sid', 64);
    t.string('agent_id', 64).notNullable().references('agents.id');
    t.string('direction', 24).notNullable(); // inbound | outbound-api | outbound-dial
    t.string('from_number', 32).notNullable();
    t.string('to_number', 32).notNullable();
    t.string('status', 24).notNullable(); // Twilio CallStatus
    t.string('stream_sid', 64);
    t.string('language', 8);
    t.string('intent', 64);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    /** Set once post-call jobs are in the queue; the sweeper re-enqueues ended calls where it is null. */
    t.timestamp('post_call_enqueued_at', { useTz: true });
    t.integer('status_sequence').notNullable().defaultTo(-1);
    t.timestamps(true, true);
    t.index(['started_at']);
  });
  await knex.raw('CREATE INDEX calls_post_call_pending ON calls (ended_at) WHERE post_call_enqueued_at IS NULL AND ended_at IS NOT NULL');
  await knex.schema.createTable('call_turns', (t) => {
    t.bigIncrements('id');
    t.string('call_sid', 64).notNullable().references('calls.call_sid').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.string('role', 16).notNullable(); // caller | agent
    t.text('text').notNullable();
    t.string('language', 8);
    t.integer('start_ms').notNullable();
    t.integer('end_ms').notNullable();
    t.string('intent', 64);
    t.float('stt_confidence');
    t.boolean('interrupted').notNullable().defaultTo(false);
    /** Per-stage latencies of the agent turn (ms): endpointingMs, sttMs, llmFirstTokenMs, ttsFirstByteMs, replyLatencyMs. */
    t.jsonb('timings');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['call_sid', 'seq']);
  });
  await knex.schema.createTable('call_events', (t) => {
    t.bigIncrements('id');
    t.string('call_sid', 64).notNullable().references('calls.call_sid').onDelete('CASCADE');
    t.string('type', 48).notNullable();
    t.jsonb('payload').notNullable().defaultTo('{}');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['call_sid', 'at']);
  });
}

/** Reverts {@link up}: drops what it created. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('call_events');
  await knex.schema.dropTable('call_turns');
  await knex.schema.dropTable('calls');
}
