import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { WEBHOOK_EVENT_SCHEMAS, WEBHOOK_EVENTS_VERSION, type WebhookEnvelope, type WebhookEventData, type WebhookEventType, type WebhookSubject } from '../domain/webhook-events';

/** One outbox row as the relay and the delivery worker read it. */
export interface OutboxRow {
  id: string;
  eventId: string;
  type: WebhookEventType;
  sequence: number;
  envelope: WebhookEnvelope;
  targetEndpointId: string | null;
  createdAt: Date;
}

const toRow = (r: Record<string, any>): OutboxRow => ({
  id: String(r.id),
  eventId: r.event_id,
  type: r.type,
  sequence: r.sequence,
  envelope: r.payload,
  targetEndpointId: r.target_endpoint_id ?? null,
  createdAt: new Date(r.created_at),
});

/** A new Standard Webhooks message id: `msg_` + 24 hex characters. */
export function newEventId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

/**
 * Writes one webhook event into `webhook_outbox` with the next sequence number of its subject. Call it with the
 * transaction (`trx`) of the state change the event reports, so both commit or roll back together (transactional
 * outbox); the relay (src/webhooks/relay.ts) delivers it after the commit.
 * `dedupeKey`: an event emitted again with the same key (a retried job, a repeated callback) is not written twice.
 * `at`: the event's time (default now).
 * @returns the event id (`msg_…`), or null when `dedupeKey` was already used.
 * @throws ZodError when `data` does not match the catalog schema of `type` (src/domain/webhook-events.ts).
 */
export async function emitWebhookEvent<T extends WebhookEventType>(
  trx: Knex | Knex.Transaction,
  e: { type: T; subject: WebhookSubject; data: WebhookEventData<T>; dedupeKey?: string; at?: Date },
): Promise<string | null> {
  const data = WEBHOOK_EVENT_SCHEMAS[e.type].parse(e.data) as WebhookEventData<T>;
  const eventId = newEventId();
  // `sequence` is filled in by the statement (jsonb_set below), from the subject's counter.
  const envelope: Omit<WebhookEnvelope<T>, 'sequence'> = { type: e.type, version: WEBHOOK_EVENTS_VERSION, timestamp: (e.at ?? new Date()).toISOString(), subject: e.subject, data };
  const dedupeKey = e.dedupeKey ?? null;
  // One round trip (this runs inside the transactions of the call's hot path): skip when the dedupe key is taken, else
  // bump the subject's counter — the upsert's row lock is held until the transaction ends, so sequences never repeat
  // or go back — and insert the event with that sequence. ON CONFLICT covers a concurrent emit of the same key (the
  // counter then has a gap, which receivers must tolerate anyway: events can be filtered per endpoint).
  const { rows } = await trx.raw<{ rows: Array<{ id: string }> }>(
    `WITH seq AS (
       INSERT INTO webhook_sequences (subject_kind, subject_id, last)
       SELECT :kind, :subjectId, 1
       WHERE CAST(:dedupeKey AS text) IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_outbox WHERE dedupe_key = CAST(:dedupeKey AS text))
       ON CONFLICT (subject_kind, subject_id) DO UPDATE SET last = webhook_sequences.last + 1
       RETURNING last
     )
     INSERT INTO webhook_outbox (event_id, type, subject_kind, subject_id, sequence, payload, dedupe_key)
     SELECT :eventId, :type, :kind, :subjectId, seq.last, jsonb_set(CAST(:payload AS jsonb), '{sequence}', to_jsonb(seq.last)), CAST(:dedupeKey AS text) FROM seq
     ON CONFLICT (dedupe_key) DO NOTHING
     RETURNING id`,
    { kind: e.subject.kind, subjectId: e.subject.id, dedupeKey, eventId, type: e.type, payload: JSON.stringify(envelope) },
  );
  return rows.length ? eventId : null;
}

/** One delivery (outbox row × endpoint) as the API lists it. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  type: string;
  sequence: number;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** Each HTTP attempt, oldest first. */
  log: Array<{ attempt: number; at: string; statusCode: number | null; latencyMs: number; responseExcerpt: string | null; error: string | null }>;
}

/** Bytes of a response body kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/**
 * The outbox's reads and writes for the relay, the delivery worker and the API (replays). Times are injected (`now`).
 */
export class WebhookOutboxRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Relays one batch of up to `limit` unrelayed rows, oldest first: (1) one transaction creates their deliveries
   * for the enabled endpoints subscribed to each type (a replay row: its target endpoint only) and commits, so a
   * worker that picks a job up at once finds its delivery; (2) `enqueue` adds the jobs; (3) only then the rows are
   * marked relayed. A crash or an `enqueue` failure before (3) leaves the rows unrelayed: the next pass finds the
   * deliveries already there and re-adds the same deterministic job ids, which BullMQ ignores when they exist. Two
   * relays running at once can only add the same job ids twice (ignored).
   * @returns how many outbox rows were relayed.
   */
  async relayBatch(limit: number, now: Date, enqueue: (d: Array<{ deliveryId: string; outboxId: string; endpointId: string }>) => Promise<void>): Promise<number> {
    const { ids, jobs } = await this.db.transaction(async (trx) => {
      const rows = await trx('webhook_outbox').whereNull('relayed_at').orderBy('id').limit(limit).select('id', 'type', 'target_endpoint_id');
      if (!rows.length) return { ids: [] as string[], jobs: [] };
      const endpoints = await trx('webhook_endpoints').where({ enabled: true }).select('id', 'event_types');
      const pairs: Array<{ outbox_id: string; endpoint_id: string }> = [];
      for (const r of rows) {
        for (const ep of endpoints) {
          if (r.target_endpoint_id ? ep.id === r.target_endpoint_id : ep.event_types.includes(r.type)) pairs.push({ outbox_id: String(r.id), endpoint_id: ep.id });
        }
      }
      if (pairs.length) await trx('webhook_deliveries').insert(pairs).onConflict(['outbox_id', 'endpoint_id']).ignore();
      const ds = await trx('webhook_deliveries').whereIn('outbox_id', rows.map((r) => r.id)).where({ status: 'pending' }).select('id', 'outbox_id', 'endpoint_id');
      return { ids: rows.map((r) => String(r.id)), jobs: ds.map((d) => ({ deliveryId: String(d.id), outboxId: String(d.outbox_id), endpointId: d.endpoint_id as string })) };
    });
    if (!ids.length) return 0;
    await enqueue(jobs);
    await this.db('webhook_outbox').whereIn('id', ids).whereNull('relayed_at').update({ relayed_at: now });
    return ids.length;
  }

  /** Pending deliveries not touched for `staleMs` (their job may have been lost with Redis), oldest first. */
  async stalePending(now: Date, staleMs: number, limit: number): Promise<Array<{ deliveryId: string; outboxId: string; endpointId: string }>> {
    const rows = await this.db('webhook_deliveries').where({ status: 'pending' }).where('updated_at', '<', new Date(now.getTime() - staleMs)).orderBy('id').limit(limit).select('id', 'outbox_id', 'endpoint_id');
    return rows.map((d) => ({ deliveryId: String(d.id), outboxId: String(d.outbox_id), endpointId: d.endpoint_id }));
  }

  /** The outbox row, or null. */
  async get(outboxId: string): Promise<OutboxRow | null> {
    const r = await this.db('webhook_outbox').where({ id: outboxId }).first();
    return r ? toRow(r) : null;
  }

  /**
   * An earlier event of the same subject (lower per-subject sequence) that still waits (`pending`) to be delivered to
   * `endpointId`: its failed attempts so far (the most among them), or null when there is none. A dead or delivered
   * predecessor does not count.
   */
  async earlierPending(endpointId: string, outboxId: string): Promise<{ attempts: number } | null> {
    const r = await this.db('webhook_outbox as me')
      .join('webhook_outbox as o', (j) => j.on('o.subject_kind', 'me.subject_kind').andOn('o.subject_id', 'me.subject_id').andOn('o.sequence', '<', 'me.sequence'))
      .join('webhook_deliveries as d', 'd.outbox_id', 'o.id')
      .where('me.id', outboxId)
      .where('d.endpoint_id', endpointId)
      .where('d.status', 'pending')
      .max({ attempts: 'd.attempts' })
      .count({ n: '*' })
      .first();
    return r && Number(r.n) > 0 ? { attempts: Number(r.attempts) } : null;
  }

  /** A delivery's state, or null. */
  async delivery(id: string): Promise<{ id: string; outboxId: string; endpointId: string; status: string; attempts: number } | null> {
    const r = await this.db('webhook_deliveries').where({ id }).first();
    return r ? { id: String(r.id), outboxId: String(r.outbox_id), endpointId: r.endpoint_id, status: r.status, attempts: r.attempts } : null;
  }

  /**
   * Records one HTTP attempt of a delivery and its new state (`pending` to retry, `delivered`, `dead`); the response
   * excerpt is cut to {@link RESPONSE_EXCERPT_BYTES}.
   */
  async recordAttempt(deliveryId: string, a: { at: Date; statusCode: number | null; latencyMs: number; responseExcerpt: string | null; error: string | null; status: 'pending' | 'delivered' | 'dead' }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const [d] = await trx('webhook_deliveries')
        .where({ id: deliveryId })
        .update({
          attempts: trx.raw('attempts + 1'),
          status: a.status,
          last_status_code: a.statusCode,
          last_error: a.error,
          updated_at: a.at,
          ...(a.status === 'delivered' ? { delivered_at: a.at } : {}),
        })
        .returning('attempts');
      await trx('webhook_delivery_attempts').insert({
        delivery_id: deliveryId,
        attempt_no: d.attempts,
        at: a.at,
        status_code: a.statusCode,
        latency_ms: Math.round(a.latencyMs),
        response_excerpt: a.responseExcerpt === null ? null : Buffer.from(a.responseExcerpt).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replace(/\uFFFD$/, ''),
        error: a.error,
      });
    });
  }

  /** An endpoint's deliveries, newest first, each with its attempt log; `beforeId` pages. */
  async deliveries(endpointId: string, o: { limit: number; beforeId?: string }): Promise<WebhookDelivery[]> {
    const q = this.db('webhook_deliveries as d').join('webhook_outbox as o', 'o.id', 'd.outbox_id').where('d.endpoint_id', endpointId).orderBy('d.id', 'desc').limit(o.limit).select('d.*', 'o.event_id', 'o.type', 'o.sequence');
    if (o.beforeId) q.where('d.id', '<', o.beforeId);
    const rows = await q;
    const logs = rows.length ? await this.db('webhook_delivery_attempts').whereIn('delivery_id', rows.map((r) => r.id)).orderBy('id') : [];
    return rows.map((r) => ({
      id: String(r.id),
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      type: r.type,
      sequence: r.sequence,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code ?? null,
      lastError: r.last_error ?? null,
      createdAt: new Date(r.created_at).toISOString(),
      deliveredAt: r.delivered_at ? new Date(r.delivered_at).toISOString() : null,
      log: logs
        .filter((l) => String(l.delivery_id) === String(r.id))
        .map((l) => ({ attempt: l.attempt_no, at: new Date(l.at).toISOString(), statusCode: l.status_code ?? null, latencyMs: l.latency_ms, responseExcerpt: l.response_excerpt ?? null, error: l.error ?? null })),
    }));
  }

  /**
   * Queues replays: a copy of each given outbox row (same event id, so the same `webhook-id`, same body) targeted at
   * one endpoint; the relay delivers them like new events. @returns the number of replay rows written.
   */
  async replay(trx: Knex | Knex.Transaction, endpointId: string, sel: { deliveryId: string } | { from: Date; to: Date }): Promise<number> {
    const src = trx('webhook_outbox as o').whereNull('o.target_endpoint_id');
    if ('deliveryId' in sel) src.join('webhook_deliveries as d', 'd.outbox_id', 'o.id').where('d.id', sel.deliveryId).where('d.endpoint_id', endpointId);
    else src.where('o.created_at', '>=', sel.from).where('o.created_at', '<', sel.to).whereExists((q) => q.select(trx.raw('1')).from('webhook_deliveries as d').whereRaw('d.outbox_id = o.id').where('d.endpoint_id', endpointId));
    const rows = await src.orderBy('o.id').select('o.event_id', 'o.type', 'o.subject_kind', 'o.subject_id', 'o.sequence', 'o.payload');
    if (!rows.length) return 0;
    await trx('webhook_outbox').insert(rows.map((r) => ({ ...r, payload: JSON.stringify(r.payload), target_endpoint_id: endpointId })));
    return rows.length;
  }
}
