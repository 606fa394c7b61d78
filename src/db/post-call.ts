import type { Knex } from 'knex';
import type { WebhookEventData } from '../domain/webhook-events';
import { emitWebhookEvent } from './webhook-outbox';

/** crm_deliveries.status values. */
export type CrmDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped';

export interface CsatRow {
  callSid: string;
  /** Integer 1..5 (CHECK constraint). */
  score: number;
  method: string;
  details: Record<string, unknown>;
  /** The caller's own score from the end-of-call survey (1..5), or null. */
  statedScore: number | null;
  statedAt: Date | null;
  createdAt: Date;
}

export interface CrmDeliveryRow {
  callSid: string;
  /** Standard Webhooks `webhook-id`, stable across retries. */
  webhookId: string;
  status: CrmDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

const toDelivery = (r: Record<string, any>): CrmDeliveryRow => ({
  callSid: r.call_sid,
  webhookId: r.webhook_id,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});

/** Longest `last_error` stored (chars). */
const MAX_ERROR_CHARS = 500;

/**
 * Repository for post-call results: `call_csat`, `crm_deliveries`, plus the two idempotent writes the
 * finalize-transcript step needs on `calls`/`call_events`. Every method is one SQL statement.
 */
export class PostCallRepo {
  constructor(private readonly db: Knex) {}

  /** Sets calls.language / calls.intent only where they are still null (values from the engine win). */
  async fillCallSummary(callSid: string, s: { language: string | null; intent: string | null }): Promise<void> {
    await this.db('calls')
      .where({ call_sid: callSid })
      .update({
        language: this.db.raw('COALESCE(language, ?)', [s.language]),
        intent: this.db.raw('COALESCE(intent, ?)', [s.intent]),
        updated_at: this.db.fn.now(),
      });
  }

  /**
   * Post-call work is done: writes the `call.completed` webhook event (once per call; a retried job writes nothing).
   * @returns the event id, or null when it was already written.
   */
  async emitCallCompleted(data: WebhookEventData<'call.completed'>): Promise<string | null> {
    return emitWebhookEvent(this.db, { type: 'call.completed', subject: { kind: 'call', id: data.callSid }, data, dedupeKey: `call.completed:${data.callSid}` });
  }

  /**
   * Inserts a call event unless one of the same `type` already exists for the call (single INSERT … WHERE NOT EXISTS).
   * @returns true when inserted.
   */
  async addEventOnce(callSid: string, type: string, payload: Record<string, unknown>): Promise<boolean> {
    const r = await this.db.raw(
      `INSERT INTO call_events (call_sid, type, payload)
       SELECT ?, ?, ?::jsonb WHERE NOT EXISTS (SELECT 1 FROM call_events WHERE call_sid = ? AND type = ?)`,
      [callSid, type, JSON.stringify(payload), callSid, type],
    );
    return r.rowCount === 1;
  }

  /**
   * Inserts or replaces the call's CSAT (idempotent): the predicted `score`, and the caller's `stated` score when
   * given (absent keeps the stored one). @throws on a score outside 1..5 (DB CHECKs).
   */
  async upsertCsat(callSid: string, c: { score: number; method: string; details: Record<string, unknown>; stated?: { score: number; at: Date } | null }): Promise<void> {
    const stated = c.stated === undefined ? {} : { stated_score: c.stated?.score ?? null, stated_at: c.stated?.at ?? null };
    await this.db('call_csat')
      .insert({ call_sid: callSid, score: c.score, method: c.method, details: JSON.stringify(c.details), ...stated })
      .onConflict('call_sid')
      .merge(['score', 'method', 'details', ...(c.stated === undefined ? [] : ['stated_score', 'stated_at'])]);
  }

  async getCsat(callSid: string): Promise<CsatRow | null> {
    const r = await this.db('call_csat').where({ call_sid: callSid }).first();
    return r ? { callSid: r.call_sid, score: r.score, method: r.method, details: r.details, statedScore: r.stated_score ?? null, statedAt: r.stated_at ?? null, createdAt: r.created_at } : null;
  }

  async getDelivery(callSid: string): Promise<CrmDeliveryRow | null> {
    const r = await this.db('crm_deliveries').where({ call_sid: callSid }).first();
    return r ? toDelivery(r) : null;
  }

  /**
   * Records the start of one HTTP delivery attempt: creates the row (status pending, attempts 1) or increments
   * `attempts` and sets status back to pending — unless it was already delivered, which is left untouched.
   * @returns the row after the update.
   */
  async beginDeliveryAttempt(callSid: string, webhookId: string): Promise<CrmDeliveryRow> {
    const [r] = await this.db('crm_deliveries')
      .insert({ call_sid: callSid, webhook_id: webhookId, status: 'pending', attempts: 1 })
      .onConflict('call_sid')
      .merge({
        attempts: this.db.raw(`CASE WHEN crm_deliveries.status = 'delivered' THEN crm_deliveries.attempts ELSE crm_deliveries.attempts + 1 END`),
        status: this.db.raw(`CASE WHEN crm_deliveries.status = 'delivered' THEN crm_deliveries.status ELSE 'pending' END`),
        updated_at: this.db.fn.now(),
      })
      .returning('*');
    return toDelivery(r);
  }

  /**
   * Records the outcome of the current attempt. `delivered` sets delivered_at and clears last_error; `pending`
   * (will retry) and `failed` (final) store the status code and error (truncated; callers pass secret-free text).
   */
  async recordDeliveryResult(
    callSid: string,
    r: { status: 'pending' | 'delivered' | 'failed'; statusCode: number | null; error: string | null },
  ): Promise<void> {
    await this.db('crm_deliveries')
      .where({ call_sid: callSid })
      .update({
        status: r.status,
        last_status_code: r.statusCode,
        last_error: r.status === 'delivered' ? null : (r.error ?? '').slice(0, MAX_ERROR_CHARS) || null,
        delivered_at: r.status === 'delivered' ? this.db.fn.now() : null,
        updated_at: this.db.fn.now(),
      });
  }

  /** Marks the delivery skipped (no CRM webhook configured); never overwrites a delivered row. */
  async markDeliverySkipped(callSid: string, webhookId: string): Promise<void> {
    await this.db('crm_deliveries')
      .insert({ call_sid: callSid, webhook_id: webhookId, status: 'skipped', attempts: 0 })
      .onConflict('call_sid')
      .merge({
        status: this.db.raw(`CASE WHEN crm_deliveries.status = 'delivered' THEN crm_deliveries.status ELSE 'skipped' END`),
        updated_at: this.db.fn.now(),
      });
  }
}
