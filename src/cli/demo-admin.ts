import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { normalizeEmail } from '../db/users';
import { Accounts } from '../http/auth/accounts';

/** The demo admin's email (`npm run demo`). */
export const DEMO_ADMIN_EMAIL = 'admin@demo.local';

/**
 * Makes sure the demo admin exists, enabled, with the admin role and a NEW random password (144 bits, base64url),
 * which is returned to be printed once and stored nowhere else (only its argon2id hash). Idempotent in users: one
 * `admin@demo.local` however often the demo runs; each run rotates its password, so a password printed by an
 * earlier run stops working (no well-known demo password exists, whatever NODE_ENV says). Audited (`user.create` /
 * `user.update`) with actor `{ kind: 'bootstrap', id: 'demo' }`.
 */
export async function ensureDemoAdmin(db: Knex): Promise<{ id: string; email: string; password: string; created: boolean }> {
  const accounts = new Accounts(db);
  const password = randomBytes(18).toString('base64url');
  const actor = { kind: 'bootstrap' as const, id: 'demo', label: 'npm run demo' };
  const existing = await db('users').select('id').where({ email: normalizeEmail(DEMO_ADMIN_EMAIL) }).first();
  if (existing) {
    await accounts.updateUser(existing.id, { password, role: 'admin', disabled: false }, actor);
    return { id: existing.id, email: DEMO_ADMIN_EMAIL, password, created: false };
  }
  const user = await accounts.createUser({ email: DEMO_ADMIN_EMAIL, password, role: 'admin' }, actor);
  return { id: user.id, email: DEMO_ADMIN_EMAIL, password, created: true };
}
