import type { Knex } from 'knex';

/** A role of a user or API key (the same values as `Role` in src/http/auth/principal.ts; db cannot import http). */
export type AccountRole = 'viewer' | 'supervisor' | 'admin';

/** A user as the rest of the code sees it: never the password hash. Times are `Date`s. */
export interface User {
  id: string;
  /** Lower-cased. */
  email: string;
  role: AccountRole;
  /** Bumped on every password change and disable; a session made under another version is no longer valid. */
  sessionVersion: number;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

/** A user with the argon2id PHC string, for password verification only (login). */
export interface UserWithHash extends User {
  passwordHash: string;
}

/** Thrown by {@link UsersRepo.create} (and an email change) when the email is taken. */
export class DuplicateEmailError extends Error {
  constructor(email: string) {
    super(`a user with email ${email} already exists`);
    this.name = 'DuplicateEmailError';
  }
}

/** Emails are compared and stored trimmed and lower-cased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const USER_COLUMNS = ['id', 'email', 'role', 'session_version', 'disabled_at', 'created_at', 'updated_at', 'last_login_at'];

const toUser = (r: Record<string, any>): User => ({
  id: r.id,
  email: r.email,
  role: r.role,
  sessionVersion: r.session_version,
  disabledAt: r.disabled_at ?? null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastLoginAt: r.last_login_at ?? null,
});

/** What {@link UsersRepo.update} may change. `disabled: true` sets `disabled_at` (once), `false` clears it. */
export interface UserPatch {
  role?: AccountRole;
  passwordHash?: string;
  disabled?: boolean;
}

/** Table `users` (migration 20261202000500). Every method takes an optional transaction. */
export class UsersRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Inserts a user (email normalized). @throws DuplicateEmailError when the email exists (unique index, so two
   * concurrent creates cannot both succeed).
   */
  async create(u: { email: string; passwordHash: string; role: AccountRole }, trx: Knex | Knex.Transaction = this.db): Promise<User> {
    const email = normalizeEmail(u.email);
    try {
      const [row] = await trx('users').insert({ email, password_hash: u.passwordHash, role: u.role }).returning(USER_COLUMNS);
      return toUser(row);
    } catch (err: any) {
      if (err?.code === '23505') throw new DuplicateEmailError(email);
      throw err;
    }
  }

  /** The user, or null. `forUpdate` locks the row until the transaction ends. `id` must be a UUID. */
  async get(id: string, trx: Knex | Knex.Transaction = this.db, o: { forUpdate?: boolean } = {}): Promise<User | null> {
    const q = trx('users').select(USER_COLUMNS).where({ id }).first();
    if (o.forUpdate) q.forUpdate();
    const row = await q;
    return row ? toUser(row) : null;
  }

  /** The user with their password hash (login only), or null. */
  async findByEmailWithHash(email: string): Promise<UserWithHash | null> {
    const row = await this.db('users').select([...USER_COLUMNS, 'password_hash']).where({ email: normalizeEmail(email) }).first();
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  /** Every user, by email. */
  async list(): Promise<User[]> {
    return (await this.db('users').select(USER_COLUMNS).orderBy('email')).map(toUser);
  }

  /**
   * Ids of the enabled admins, locking their rows until the transaction ends (`SELECT … FOR UPDATE`), so two
   * concurrent demotions cannot both see "another admin remains". Call inside a transaction.
   */
  async lockActiveAdminIds(trx: Knex.Transaction): Promise<string[]> {
    return (await trx('users').select('id').where({ role: 'admin' }).whereNull('disabled_at').orderBy('id').forUpdate()).map((r) => r.id);
  }

  /**
   * Applies a patch; a password change or a disable bumps `session_version` (ending the user's sessions). Returns
   * the updated user, or null when unknown.
   */
  async update(id: string, patch: UserPatch, trx: Knex | Knex.Transaction = this.db): Promise<User | null> {
    const set: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.disabled === true) set.disabled_at = trx.raw('coalesce(disabled_at, now())');
    if (patch.disabled === false) set.disabled_at = null;
    if (patch.passwordHash !== undefined || patch.disabled === true) set.session_version = trx.raw('session_version + 1');
    const [row] = await trx('users').where({ id }).update(set).returning(USER_COLUMNS);
    return row ? toUser(row) : null;
  }

  /** Records a successful login. */
  async touchLogin(id: string): Promise<void> {
    await this.db('users').where({ id }).update({ last_login_at: this.db.fn.now() });
  }
}
