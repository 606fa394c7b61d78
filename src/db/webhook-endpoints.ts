import type { Knex } from 'knex';
import type { WebhookEventType } from '../domain/webhook-events';

/** A webhook endpoint as the API shows it (never its secret). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  /** Why it was disabled automatically (continuous failures), or null. */
  disabledReason: string | null;
  disabledAt: string | null;
  /** Since when every delivery attempt has failed (ISO 8601), or null. */
  failingSince: string | null;
  /** End of the previous secret's validity after a rotation (ISO 8601), or null. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An endpoint with its encrypted secrets (for the delivery worker only). */
export interface WebhookEndpointSecrets extends WebhookEndpoint {
  secretEnc: string;
  previousSecretEnc: string | null;
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const toEndpoint = (r: Record<string, any>): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description ?? null,
  eventTypes: r.event_types,
  enabled: r.enabled,
  disabledReason: r.disabled_reason ?? null,
  disabledAt: iso(r.disabled_at),
  failingSince: iso(r.failing_since),
  previousSecretExpiresAt: iso(r.previous_secret_expires_at),
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Repository of webhook endpoints (table `webhook_endpoints`). Secrets arrive and leave encrypted (src/webhooks/secret-box.ts). */
export class WebhookEndpointsRepo {
  constructor(private readonly db: Knex) {}

  /** Runs `fn` in one transaction with a repository bound to it. */
  transaction<T>(fn: (repo: WebhookEndpointsRepo, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => fn(new WebhookEndpointsRepo(trx), trx));
  }

  /** Every endpoint, oldest first. */
  async list(): Promise<WebhookEndpoint[]> {
    return (await this.db('webhook_endpoints').orderBy('created_at').orderBy('id')).map(toEndpoint);
  }

  /** The endpoint, or null (also for an id that is not a uuid); `lock` takes its row FOR UPDATE. */
  async get(id: string, o: { lock?: boolean } = {}): Promise<WebhookEndpoint | null> {
    if (!UUID.test(id)) return null;
    const q = this.db('webhook_endpoints').where({ id });
    if (o.lock) q.forUpdate();
    const r = await q.first();
    return r ? toEndpoint(r) : null;
  }

  /** The endpoint with its encrypted secrets, or null. */
  async withSecrets(id: string): Promise<WebhookEndpointSecrets | null> {
    if (!UUID.test(id)) return null;
    const r = await this.db('webhook_endpoints').where({ id }).first();
    return r ? { ...toEndpoint(r), secretEnc: r.secret_enc, previousSecretEnc: r.previous_secret_enc ?? null } : null;
  }

  /** Inserts an endpoint. */
  async create(p: { url: string; description?: string | null; eventTypes: WebhookEventType[]; enabled?: boolean; secretEnc: string }): Promise<WebhookEndpoint> {
    const [r] = await this.db('webhook_endpoints')
      .insert({ url: p.url, description: p.description ?? null, event_types: p.eventTypes, enabled: p.enabled ?? true, secret_enc: p.secretEnc })
      .returning('*');
    return toEndpoint(r);
  }

  /** Applies changes (absent fields kept); enabling clears the disabled reason and the failure streak. Null when unknown. */
  async update(id: string, p: { url?: string; description?: string | null; eventTypes?: WebhookEventType[]; enabled?: boolean }): Promise<WebhookEndpoint | null> {
    const [r] = await this.db('webhook_endpoints')
      .where({ id })
      .update({
        ...(p.url !== undefined ? { url: p.url } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.eventTypes !== undefined ? { event_types: p.eventTypes } : {}),
        ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
        ...(p.enabled ? { disabled_reason: null, disabled_at: null, failing_since: null } : {}),
        updated_at: this.db.fn.now(),
      })
      .returning('*');
    return r ? toEndpoint(r) : null;
  }

  /** Replaces the secret; the old one stays valid until `previousValidUntil`. Null when unknown. */
  async rotate(id: string, secretEnc: string, previousValidUntil: Date): Promise<WebhookEndpoint | null> {
    const [r] = await this.db('webhook_endpoints')
      .where({ id })
      .update({ previous_secret_enc: this.db.ref('secret_enc'), previous_secret_expires_at: previousValidUntil, secret_enc: secretEnc, updated_at: this.db.fn.now() })
      .returning('*');
    return r ? toEndpoint(r) : null;
  }

  /** Deletes an endpoint (its deliveries go with it); returns it as it was, or null. */
  async delete(id: string): Promise<WebhookEndpoint | null> {
    if (!UUID.test(id)) return null;
    const [r] = await this.db('webhook_endpoints').where({ id }).delete().returning('*');
    return r ? toEndpoint(r) : null;
  }

  /** A delivery succeeded: the failure streak ends. */
  async recordSuccess(id: string): Promise<void> {
    await this.db('webhook_endpoints').where({ id }).whereNotNull('failing_since').update({ failing_since: null });
  }

  /**
   * A delivery attempt failed at `now`: starts the failure streak if none; when the streak is older than
   * `disableAfterMs`, disables the endpoint with `reason` (once).
   * @returns the endpoint as it was before being disabled by this call, or null when it was not disabled now.
   */
  async recordFailure(id: string, now: Date, disableAfterMs: number, reason: string): Promise<WebhookEndpoint | null> {
    return this.db.transaction(async (trx) => {
      await trx('webhook_endpoints').where({ id }).whereNull('failing_since').update({ failing_since: now });
      const [r] = await trx('webhook_endpoints')
        .where({ id, enabled: true })
        .where('failing_since', '<=', new Date(now.getTime() - disableAfterMs))
        .update({ enabled: false, disabled_reason: reason, disabled_at: now, updated_at: now })
        .returning('*');
      return r ? toEndpoint(r) : null;
    });
  }
}
