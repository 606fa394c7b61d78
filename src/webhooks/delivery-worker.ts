import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { AuditRepo } from '../db/audit';
import { WebhookEndpointsRepo } from '../db/webhook-endpoints';
import { WebhookOutboxRepo } from '../db/webhook-outbox';
import { WEBHOOK_BACKOFF, WEBHOOK_QUEUE, webhookBackoffMs, type WebhookJob, type WEBHOOK_JOB } from './delivery-queue';
import type { SecretBox } from './secret-box';
import { deliverOnce } from './send';
import type { SsrfPolicy } from './ssrf';

export interface DeliveryDeps {
  db: Knex;
  box: SecretBox;
  policy: SsrfPolicy;
  logger: Logger;
  timeoutMs: number;
  /** An endpoint failing without a success for this long (ms) is disabled. */
  disableAfterMs: number;
  /** How long (ms) a delivery waits before checking again while an earlier event of its subject is still pending. Default 1000. */
  orderWaitMs?: number;
  now?: () => Date;
}

/**
 * Processes one delivery job: loads the event (outbox row) and the endpoint, signs the body with the endpoint's
 * secret (and, during a rotation's 24 h overlap, the previous one too: two `v1,` entries), POSTs it through the SSRF
 * guard, and logs the attempt (status, latency ms, response excerpt ≤ 1 KB, error) on the delivery.
 * - 2xx → `delivered`; the endpoint's failure streak ends.
 * - retryable failure → throws, BullMQ retries with the `webhook` backoff; the last attempt → `dead` (dead letter).
 * - permanent failure (4xx other than 408/429, SSRF refusal) → `dead` at once (UnrecoverableError).
 * - Each failure extends the endpoint's streak; a streak older than `disableAfterMs` disables it with the reason
 *   recorded on the endpoint and an audit entry `webhook_endpoint.auto_disable`.
 * A disabled or deleted endpoint, or a delivery already delivered, ends the job without sending.
 * - Order: events of one subject (a call, a campaign) reach an endpoint in sequence order. While an earlier event of
 *   the subject is still `pending` for this endpoint (e.g. waiting for its retry after a 503), the job is moved back
 *   to delayed (200 ms while the predecessor has not failed yet, else `orderWaitMs`) without sending and without using an attempt (BullMQ DelayedError); a dead
 *   (dead-lettered) predecessor no longer holds later events back.
 * @throws Error (retry), UnrecoverableError as above, or DelayedError (waiting for a predecessor).
 */
export function createDeliveryProcessor(d: DeliveryDeps) {
  const outbox = new WebhookOutboxRepo(d.db);
  const endpoints = new WebhookEndpointsRepo(d.db);
  const now = d.now ?? (() => new Date());
  const orderWaitMs = d.orderWaitMs ?? 1_000;
  return async function deliver(job: Job<WebhookJob>, token?: string): Promise<{ status: string }> {
    const { deliveryId, outboxId, endpointId } = job.data;
    const delivery = await outbox.delivery(deliveryId);
    if (!delivery || delivery.outboxId !== outboxId || delivery.endpointId !== endpointId) throw new UnrecoverableError(`unknown delivery ${deliveryId}`);
    if (delivery.status !== 'pending') return { status: delivery.status };
    const [event, ep] = await Promise.all([outbox.get(outboxId), endpoints.withSecrets(endpointId)]);
    if (!event || !ep) throw new UnrecoverableError('event or endpoint deleted');
    const before = await outbox.earlierPending(endpointId, outboxId);
    if (before) {
      // A predecessor on its first attempt is likely in flight right now: look again soon.
      await job.moveToDelayed(Date.now() + (before.attempts === 0 ? Math.min(200, orderWaitMs) : orderWaitMs), token);
      throw new DelayedError();
    }
    if (!ep.enabled) {
      await outbox.recordAttempt(deliveryId, { at: now(), statusCode: null, latencyMs: 0, responseExcerpt: null, error: 'endpoint disabled', status: 'dead' });
      return { status: 'dead' };
    }
    const secrets = [d.box.open(ep.secretEnc)];
    if (ep.previousSecretEnc && ep.previousSecretExpiresAt && new Date(ep.previousSecretExpiresAt) > now()) secrets.push(d.box.open(ep.previousSecretEnc));
    const body = JSON.stringify(event.envelope);
    const r = await deliverOnce({ url: ep.url, secrets, msgId: event.eventId, body, policy: d.policy, timeoutMs: d.timeoutMs, now: () => now().getTime() });
    const last = r.outcome === 'permanent' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const status = r.outcome === 'delivered' ? 'delivered' : last ? 'dead' : 'pending';
    await outbox.recordAttempt(deliveryId, { at: now(), statusCode: r.statusCode, latencyMs: r.latencyMs, responseExcerpt: r.responseExcerpt, error: r.error, status });
    const log = d.logger.child({ deliveryId, eventId: event.eventId, type: event.type, endpointId, attempt: job.attemptsMade + 1 });
    if (r.outcome === 'delivered') {
      await endpoints.recordSuccess(endpointId);
      return { status };
    }
    const days = Math.round((d.disableAfterMs / 86_400_000) * 10) / 10;
    const disabled = await endpoints.recordFailure(endpointId, now(), d.disableAfterMs, `every delivery failed for ${days} days (last: ${r.error ?? 'error'})`);
    if (disabled) {
      await new AuditRepo(d.db).record({
        actor: { kind: 'bootstrap', id: 'webhook-delivery', label: 'webhook delivery worker' },
        action: 'webhook_endpoint.auto_disable',
        entityType: 'webhook_endpoint',
        entityId: endpointId,
        before: { enabled: true },
        after: { enabled: false, disabledReason: disabled.disabledReason },
      });
      log.warn({ reason: disabled.disabledReason }, 'webhook endpoint disabled after continuous failures');
    }
    log.warn({ statusCode: r.statusCode, error: r.error, final: last }, 'webhook delivery attempt failed');
    if (r.outcome === 'permanent') throw new UnrecoverableError(`webhook rejected: ${r.error}`);
    throw new Error(`webhook delivery failed: ${r.error}`);
  };
}

/**
 * Starts the `webhook-delivery` Worker with the `webhook` backoff (exponential from `retryBaseMs`, capped at
 * `retryMaxDelayMs`, jittered). Close it with `worker.close()`.
 */
export function startDeliveryWorker(
  d: DeliveryDeps & { connection: ConnectionOptions; prefix: string; retryBaseMs: number; retryMaxDelayMs: number; concurrency?: number },
): Worker<WebhookJob, unknown, typeof WEBHOOK_JOB> {
  const worker = new Worker<WebhookJob, unknown, typeof WEBHOOK_JOB>(WEBHOOK_QUEUE, createDeliveryProcessor(d), {
    connection: d.connection,
    prefix: d.prefix,
    concurrency: d.concurrency ?? 16,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) => (type === WEBHOOK_BACKOFF ? webhookBackoffMs(attemptsMade, d.retryBaseMs, d.retryMaxDelayMs) : 1_000),
    },
  });
  worker.on('error', (err) => d.logger.error({ err: err.message }, 'webhook delivery worker error'));
  return worker;
}
