import type { Knex } from 'knex';

/** Who made a change (the API's principal, without its role): `kind` user | api_key | bootstrap. */
export interface AuditActor {
  kind: 'user' | 'api_key' | 'bootstrap';
  id: string;
  label: string;
}

/** One audit entry as stored and as `GET /api/audit` shows it (`at` ISO 8601). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: AuditActor;
  /** `<entity>.<verb>`, e.g. `agent.update`, `phone_number.delete`, `api_key.revoke`, `user.create`. */
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** Keys whose values never reach the audit log, at any depth (they are replaced by `true` when set). */
const SECRET_KEYS = /^(secret|password|passwordHash|password_hash|keyHash|key_hash|key|token|authToken)$/i;

/** A deep copy of `v` with secret-named fields replaced by `"[redacted]"` (so "a secret changed" stays visible). */
export function withoutSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEYS.test(k) && x != null && typeof x !== 'boolean' ? '[redacted]' : withoutSecrets(x)]));
  }
  return v;
}

const toEntry = (r: Record<string, any>): AuditEntry => ({
  id: String(r.id),
  at: new Date(r.at).toISOString(),
  actor: { kind: r.actor_kind, id: r.actor_id, label: r.actor_label },
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  before: r.before,
  after: r.after,
});

/** Filters and keyset page of {@link AuditRepo.list}; `beforeId` is the last id of the previous page. */
export interface AuditQuery {
  entityType?: string;
  entityId?: string;
  actorId?: string;
  from?: string;
  to?: string;
  beforeId?: string;
  limit: number;
}

/** The append-only audit log (table `audit_log`). */
export class AuditRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Appends one entry. Pass the transaction that made the change (`trx`) so the entry commits or rolls back with
   * it. `before` / `after` are stored with secret-named fields redacted ({@link withoutSecrets}).
   */
  async record(
    e: { actor: AuditActor; action: string; entityType: string; entityId: string; before?: unknown; after?: unknown },
    trx: Knex | Knex.Transaction = this.db,
  ): Promise<void> {
    await trx('audit_log').insert({
      actor_kind: e.actor.kind,
      actor_id: e.actor.id,
      actor_label: e.actor.label,
      action: e.action,
      entity_type: e.entityType,
      entity_id: e.entityId,
      before: e.before === undefined || e.before === null ? null : JSON.stringify(withoutSecrets(e.before)),
      after: e.after === undefined || e.after === null ? null : JSON.stringify(withoutSecrets(e.after)),
    });
  }

  /** Entries newest first (by id), filtered; at most `limit`. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const b = this.db('audit_log').orderBy('id', 'desc').limit(q.limit);
    if (q.entityType) b.where('entity_type', q.entityType);
    if (q.entityId) b.where('entity_id', q.entityId);
    if (q.actorId) b.where('actor_id', q.actorId);
    if (q.from) b.where('at', '>=', q.from);
    if (q.to) b.where('at', '<', q.to);
    if (q.beforeId) b.where('id', '<', q.beforeId);
    return (await b).map(toEntry);
  }
}
