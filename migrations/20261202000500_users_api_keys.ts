import type { Knex } from 'knex';

/**
 * Accounts of the management API.
 *
 * - `users`: people who log in with email + password (argon2id PHC string in `password_hash`). `email` is stored
 *   lower-cased and unique. `role` is viewer | supervisor | admin. A disabled user (`disabled_at` set) cannot log in
 *   and their sessions stop working; `session_version` is bumped on every password change and disable, and a session
 *   made under an older version is rejected (re-enabling a user does not revive old sessions).
 * - `api_keys`: bearer keys for programs (`cc_…`). Only the SHA-256 hex of the whole key is stored (`key_hash`,
 *   unique); `prefix` (first 11 characters, e.g. `cc_ab12cd34`) is what lists show. `created_by` is the creating
 *   principal `{ kind, id, label }`; `revoked_at` set = the key no longer authenticates.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable().unique();
    t.text('password_hash').notNullable();
    t.text('role').notNullable();
    t.integer('session_version').notNullable().defaultTo(0);
    t.timestamp('disabled_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_login_at', { useTz: true }).nullable();
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('viewer', 'supervisor', 'admin'))`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_email_lower_check CHECK (email = lower(email))`);

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.text('key_hash').notNullable().unique();
    t.text('prefix').notNullable();
    t.jsonb('created_by').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
  });
  await knex.raw(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('viewer', 'supervisor', 'admin'))`);
}

/** Reverts {@link up}. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_keys');
  await knex.schema.dropTable('users');
}
