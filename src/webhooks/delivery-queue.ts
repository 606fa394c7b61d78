import { Queue, type ConnectionOptions } from 'bullmq';

/**
 * The `webhook-delivery` BullMQ queue: one job per outbox row × endpoint, job id `wh-<outboxId>-<endpointId>`
 * (deterministic, so the relay re-adding it after a crash is a no-op; no ':' — BullMQ refuses it in custom ids).
 * Retries use the custom backoff `webhook` ({@link webhookBackoffMs}): exponential from the base delay, capped,
 * with ±20 % jitter; the defaults (30 s base, 4 h cap, 14 attempts) span about a day before the dead letter.
 */
export const WEBHOOK_QUEUE = 'webhook-delivery';
export const WEBHOOK_JOB = 'deliver';
export const WEBHOOK_BACKOFF = 'webhook';

export interface WebhookJob {
  deliveryId: string;
  outboxId: string;
  endpointId: string;
}

export type WebhookQueue = Queue<WebhookJob, unknown, typeof WEBHOOK_JOB>;

/** Deterministic job id of a delivery. */
export function webhookJobId(j: Pick<WebhookJob, 'outboxId' | 'endpointId'>): string {
  return `wh-${j.outboxId}-${j.endpointId}`;
}

/**
 * Delay (ms) before retry number `attemptsMade` (1 = after the first failure): `min(base × 2^(n−1), max)` times a
 * jitter factor in [0.8, 1.0] (`rand` in [0, 1), injected in tests).
 */
export function webhookBackoffMs(attemptsMade: number, baseMs: number, maxMs: number, rand: number = Math.random()): number {
  const d = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs);
  return Math.round(d * (1 - 0.2 * rand));
}

/** Opens the queue (producer side); `attempts` is the retry budget of every job (dead letter after it). */
export function createWebhookQueue(connection: ConnectionOptions, o: { prefix: string; attempts: number }): WebhookQueue {
  return new Queue<WebhookJob, unknown, typeof WEBHOOK_JOB>(WEBHOOK_QUEUE, {
    connection,
    prefix: o.prefix,
    defaultJobOptions: {
      attempts: o.attempts,
      backoff: { type: WEBHOOK_BACKOFF },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
}

/** Adds delivery jobs with their deterministic ids (existing ids are ignored by BullMQ). @throws Redis errors. */
export async function enqueueDeliveries(queue: WebhookQueue, jobs: readonly WebhookJob[]): Promise<void> {
  if (!jobs.length) return;
  await queue.addBulk(jobs.map((data) => ({ name: WEBHOOK_JOB, data, opts: { jobId: webhookJobId(data) } })));
}
