import type { Knex } from 'knex';

/**
 * Outbound calling: the organisation-wide do-not-call list, campaigns, their contacts (a per-contact state machine
 * with claims and leases, so several dispatchers never dial one contact twice), and one row per dial attempt (its id
 * is the attempt's idempotency key). Calls placed by a campaign reference their campaign and attempt.
 *
 * Contact states: pending → dialing → in-progress → done | retry-scheduled | failed | opted-out | suppressed
 * (retry-scheduled → dialing when `next_attempt_at` passes). See src/domain/campaign.ts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dnc_numbers', (t) => {
    t.string('e164', 32).primary();
    t.text('reason');
    /** api | import | opt_out */
    t.string('source', 16).notNullable();
    /** Who/what put it there: `{ actor?, callSid?, utterance?, campaignId?, importFile? }`. */
    t.jsonb('provenance').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('campaigns', (t) => {
    t.string('id', 64).primary();
    t.text('name').notNullable();
    t.string('agent_id', 64).notNullable().references('agents.id');
    /** draft | running | paused | completed | cancelled */
    t.string('state', 16).notNullable().defaultTo('draft');
    /** `[{ number: E.164, dailyCap: number | null }]`, rotated. */
    t.jsonb('caller_ids').notNullable();
    /** ISO 3166-1 alpha-2 region for numbers written without a country code (libphonenumber-js). */
    t.string('default_region', 2);
    /** `{ days: ['mon', …], start: 'HH:MM', end: 'HH:MM', blackoutDates: ['YYYY-MM-DD'] }`, in each contact's zone. */
    t.jsonb('window').notNullable();
    t.integer('max_concurrent').notNullable();
    /** Calls per second (Twilio's default account CPS is 1). */
    t.float('cps').notNullable().defaultTo(1);
    /** `{ maxAttempts, delaysSeconds: { busy: [s…], noAnswer: [s…], failed: [s…], voicemail: [s…] } }`. */
    t.jsonb('retry').notNullable();
    t.text('voicemail_message');
    /** Why the campaign was paused by the system (dial-failure breaker), or null. */
    t.text('pause_reason');
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamps(true, true);
    t.index(['state']);
  });
  await knex.schema.createTable('campaign_contacts', (t) => {
    t.bigIncrements('id');
    t.string('campaign_id', 64).notNullable().references('campaigns.id').onDelete('CASCADE');
    t.string('phone', 32).notNullable();
    t.text('name');
    /** IANA zones the contact may be in (one from the CSV, else every zone of the number's prefix). */
    t.specificType('timezones', 'text[]').notNullable();
    t.string('language', 8);
    t.jsonb('variables').notNullable().defaultTo('{}');
    /** pending | dialing | in-progress | retry-scheduled | done | failed | opted-out | suppressed */
    t.string('state', 16).notNullable().defaultTo('pending');
    /** Attempts used (the shared budget across outcomes). */
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true });
    /** Dispatcher claim: owner id and expiry; an expired lease makes the contact claimable again. */
    t.string('lease_owner', 64);
    t.timestamp('lease_expires_at', { useTz: true });
    /** Last attempt's outcome: completed | busy | no-answer | failed | voicemail | canceled | opted-out … */
    t.string('last_outcome', 24);
    t.string('last_call_sid', 64);
    /** Line of the import file it came from (for reports), or null (JSON). */
    t.integer('source_line');
    t.timestamps(true, true);
    t.unique(['campaign_id', 'phone']);
    t.index(['campaign_id', 'state', 'next_attempt_at']);
  });
  await knex.schema.createTable('call_attempts', (t) => {
    /** Also the idempotency key of the dial (uuid). */
    t.uuid('id').primary();
    t.string('campaign_id', 64).references('campaigns.id').onDelete('CASCADE');
    t.bigInteger('contact_id').references('campaign_contacts.id').onDelete('CASCADE');
    t.integer('attempt_no').notNullable();
    t.string('to_number', 32).notNullable();
    t.string('from_number', 32).notNullable();
    t.string('agent_id', 64).notNullable().references('agents.id');
    t.string('call_sid', 64).unique();
    /** Twilio CallStatus of the latest callback (queued … completed | busy | no-answer | failed | canceled). */
    t.string('status', 24).notNullable().defaultTo('requested');
    t.integer('status_sequence').notNullable().defaultTo(-1);
    /** human | machine_start | machine_end_beep | machine_end_silence | machine_end_other | fax | unknown */
    t.string('answered_by', 24);
    /** twilio-amd | transcript */
    t.string('amd_source', 16);
    t.boolean('voicemail_played');
    t.jsonb('variables').notNullable().defaultTo('{}');
    t.text('error');
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('answered_at', { useTz: true });
    t.timestamp('amd_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    t.unique(['contact_id', 'attempt_no']);
    t.index(['campaign_id', 'requested_at']);
  });
  await knex.schema.alterTable('calls', (t) => {
    t.string('campaign_id', 64).nullable();
    t.uuid('attempt_id').nullable();
    t.index(['campaign_id', 'started_at']);
  });
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calls', (t) => {
    t.dropIndex(['campaign_id', 'started_at']);
    t.dropColumn('campaign_id');
    t.dropColumn('attempt_id');
  });
  await knex.schema.dropTable('call_attempts');
  await knex.schema.dropTable('campaign_contacts');
  await knex.schema.dropTable('campaigns');
  await knex.schema.dropTable('dnc_numbers');
}
