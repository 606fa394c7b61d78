import type { Knex } from 'knex';
import type { AccountRole } from './users';

/** Who created a key (the principal at the time, without its role). */
export interface ApiKeyCreator {
  kind: 'user' | 'api_key' | 'bootstrap';
  id: string;
  label: string;
}

/** An API key as stored, without its hash: `prefix` (e.g. `cc_ab12cd34`) is all that identifies it on screen. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: AccountRole;
  prefix: string;
  createdBy: ApiKeyCreator;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = ['id', 'name', 'role', 'prefix', 'created_by', 'created_at', 'last_used_at', 'revoked_at'];

const toKey = (r: Record<string, any>): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at ?? null,
  revokedAt: r.revoked_at ?? null,
});

/**
 * Table `api_keys` (migration 20261202000500). Keys are looked up by the SHA-256 hex of the whole key
 * (src/http/auth/api-key-token.ts explains why a fast hash is right for them); the key itself is never stored.
 */
export class ApiKeysRepo {
  constructor(private readonly db: Knex) {}

  /** Stores a new key by its hash. */
  async create(k: { name: string; role: AccountRole; keyHash: string; prefix: string; createdBy: ApiKeyCreator }, trx: Knex | Knex.Transaction = this.db): Promise<ApiKeyRecord> {
    const [row] = await trx('api_keys')
      .insert({ name: k.name, role: k.role, key_hash: k.keyHash, prefix: k.prefix, created_by: JSON.stringify(k.createdBy) })
      .returning(COLUMNS);
    return toKey(row);
  }

  /** The key that is not revoked and has this hash, or null. */
  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const row = await this.db('api_keys').select(COLUMNS).where({ key_hash: keyHash }).whereNull('revoked_at').first();
    return row ? toKey(row) : null;
  }

  /** The key (revoked or not), or null. `id` must be a UUID. */
  async get(id: string, trx: Knex | Knex.Transaction = this.db, o: { forUpdate?: boolean } = {}): Promise<ApiKeyRecord | null> {
    const q = trx('api_keys').select(COLUMNS).where({ id }).first();
    if (o.forUpdate) q.forUpdate();
    const row = await q;
    return row ? toKey(row) : null;
  }

  /** Every key, newest first (revoked ones included, with `revokedAt`). */
  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db('api_keys').select(COLUMNS).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])).map(toKey);
  }

  /** Sets `revoked_at` (once). Returns the key after the change, or null when unknown. */
  async revoke(id: string, trx: Knex | Knex.Transaction = this.db): Promise<ApiKeyRecord | null> {
    const [row] = await trx('api_keys').where({ id }).update({ revoked_at: trx.raw('coalesce(revoked_at, now())') }).returning(COLUMNS);
    return row ? toKey(row) : null;
  }

  /**
   * Sets `last_used_at = now()` unless it was set less than `minIntervalMs` ago (so a busy key costs one write per
   * interval, across every server instance). Returns whether a row was written.
   */
  async touchLastUsed(id: string, minIntervalMs: number): Promise<boolean> {
    const n = await this.db('api_keys')
      .where({ id })
      .where((q) => q.whereNull('last_used_at').orWhereRaw(`last_used_at < now() - (? * interval '1 millisecond')`, [minIntervalMs]))
      .update({ last_used_at: this.db.fn.now() });
    return n > 0;
  }
}
