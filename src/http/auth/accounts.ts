import type { Knex } from 'knex';
import { AuditRepo, type AuditActor } from '../../db/audit';
import { ApiKeysRepo, type ApiKeyRecord } from '../../db/api-keys';
import { UsersRepo, type AccountRole, type User, type UserPatch } from '../../db/users';
import { generateApiKey } from './api-key-token';
import { hashPassword } from './passwords';

/** A user as the API shows it (never the password hash), times in ISO 8601. */
export interface UserView {
  id: string;
  email: string;
  role: AccountRole;
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** A key as the API shows it after creation: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: AccountRole;
  /** First characters of the key, e.g. `cc_ab12cd34` (show as `cc_ab12cd34…`). */
  prefix: string;
  createdBy: { kind: string; id: string; label: string };
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** The API view of a user. */
export function userView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    disabled: u.disabledAt !== null,
    disabledAt: iso(u.disabledAt),
    createdAt: iso(u.createdAt)!,
    updatedAt: iso(u.updatedAt)!,
    lastLoginAt: iso(u.lastLoginAt),
  };
}

/** The API view of a key. */
export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  return { id: k.id, name: k.name, role: k.role, prefix: k.prefix, createdBy: k.createdBy, createdAt: iso(k.createdAt)!, lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt) };
}

/** Thrown when a change would leave no enabled admin user. */
export class LastAdminError extends Error {
  constructor() {
    super('this would leave no enabled admin: make another user admin first');
    this.name = 'LastAdminError';
  }
}

/**
 * Account changes, each in one transaction with its audit entry (src/db/audit.ts; actions `user.create`,
 * `user.update`, `user.disable`, `api_key.create`, `api_key.revoke`). Audit `before`/`after` are the API views:
 * never a password, hash or key.
 */
export class Accounts {
  readonly users: UsersRepo;
  readonly apiKeys: ApiKeysRepo;
  private readonly audit: AuditRepo;

  constructor(private readonly db: Knex) {
    this.users = new UsersRepo(db);
    this.apiKeys = new ApiKeysRepo(db);
    this.audit = new AuditRepo(db);
  }

  /** Creates a user (password hashed with argon2id). @throws DuplicateEmailError (409). The caller checks password strength. */
  async createUser(input: { email: string; password: string; role: AccountRole }, actor: AuditActor): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction(async (trx) => {
      const user = await this.users.create({ email: input.email, passwordHash, role: input.role }, trx);
      await this.audit.record({ actor, action: 'user.create', entityType: 'user', entityId: user.id, after: userView(user) }, trx);
      return user;
    });
  }

  /**
   * Changes role, password and/or disabled state. Demoting or disabling the last enabled admin throws
   * {@link LastAdminError} (the admins' rows are locked first, so two concurrent demotions cannot both pass).
   * A password change or disable ends the user's sessions. Audit action `user.disable` when the patch disables the
   * user, else `user.update`. Returns null when the user does not exist.
   */
  async updateUser(id: string, patch: { role?: AccountRole; password?: string; disabled?: boolean }, actor: AuditActor): Promise<User | null> {
    const passwordHash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
    return this.db.transaction(async (trx) => {
      const admins = await this.users.lockActiveAdminIds(trx);
      const before = await this.users.get(id, trx, { forUpdate: true });
      if (!before) return null;
      const wasActiveAdmin = before.role === 'admin' && before.disabledAt === null;
      const staysActiveAdmin = (patch.role ?? before.role) === 'admin' && !(patch.disabled ?? before.disabledAt !== null);
      if (wasActiveAdmin && !staysActiveAdmin && admins.filter((a) => a !== id).length === 0) throw new LastAdminError();
      const change: UserPatch = { role: patch.role, passwordHash, disabled: patch.disabled };
      const after = (await this.users.update(id, change, trx))!;
      const disabling = patch.disabled === true && before.disabledAt === null;
      await this.audit.record(
        {
          actor,
          action: disabling ? 'user.disable' : 'user.update',
          entityType: 'user',
          entityId: id,
          before: userView(before),
          after: { ...userView(after), ...(passwordHash ? { passwordChanged: true } : {}) },
        },
        trx,
      );
      return after;
    });
  }

  /** Creates an API key; returns the record and the key itself (to show once). */
  async createApiKey(input: { name: string; role: AccountRole }, actor: AuditActor): Promise<{ record: ApiKeyRecord; key: string }> {
    const { key, keyHash, prefix } = generateApiKey();
    const record = await this.db.transaction(async (trx) => {
      const r = await this.apiKeys.create({ name: input.name, role: input.role, keyHash, prefix, createdBy: actor }, trx);
      await this.audit.record({ actor, action: 'api_key.create', entityType: 'api_key', entityId: r.id, after: apiKeyView(r) }, trx);
      return r;
    });
    return { record, key };
  }

  /** Revokes a key (idempotent: a second revoke changes and audits nothing). Returns null when unknown. */
  async revokeApiKey(id: string, actor: AuditActor): Promise<ApiKeyRecord | null> {
    return this.db.transaction(async (trx) => {
      const before = await this.apiKeys.get(id, trx, { forUpdate: true });
      if (!before) return null;
      if (before.revokedAt) return before;
      const after = (await this.apiKeys.revoke(id, trx))!;
      await this.audit.record({ actor, action: 'api_key.revoke', entityType: 'api_key', entityId: id, before: apiKeyView(before), after: apiKeyView(after) }, trx);
      return after;
    });
  }
}
