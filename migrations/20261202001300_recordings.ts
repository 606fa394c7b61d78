import type { Knex } from 'knex';

/**
 * Call recordings (issue 12 "Recordings"): one `recordings` row per stored two-channel WAV (caller left, agent right)
 * — where it is (`storage` `local` | `s3`, `key` relative to RECORDINGS_DIR or the bucket), its length (ms), size
 * (bytes) and channel count — deleted with its file by the retention job (index on `created_at`). Agents get
 * `record_calls` (default true) and `recording_notice` (`{ enabled, text: { <lang>: line } }`, default off).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('recordings', (t) => {
    t.bigIncrements('id');
    t.string('call_sid', 64).notNullable().unique().references('call_sid').inTable('calls').onDelete('CASCADE');
    t.string('storage', 8).notNullable();
    t.text('key').notNullable();
    t.integer('duration_ms').notNullable();
    t.bigInteger('bytes').notNullable();
    t.smallint('channels').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['created_at']);
  });
  await knex.schema.alterTable('agents', (t) => {
    t.boolean('record_calls').notNullable().defaultTo(true);
    t.jsonb('recording_notice').notNullable().defaultTo(JSON.stringify({ enabled: false, text: {} }));
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('recording_notice');
    t.dropColumn('record_calls');
  });
  await knex.schema.dropTable('recordings');
}
