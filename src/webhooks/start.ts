import type { ConnectionOptions } from 'bullmq';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { webhookApiDeps } from './config';
import { createWebhookQueue } from './delivery-queue';
import { startDeliveryWorker } from './delivery-worker';
import { startRelay } from './relay';
import type { Resolver } from './ssrf';

/**
 * Starts webhook delivery in the worker process: the outbox relay (every WEBHOOK_RELAY_INTERVAL_MS; once a minute the
 * jobs of deliveries pending and untouched for 5 min are re-added — a no-op for jobs still in Redis, e.g. waiting
 * for a retry; a fresh job for one Redis lost — so nothing is lost) and the
 * `webhook-delivery` Worker. Returns null (nothing started, a warning logged) without WEBHOOK_SECRETS_KEY.
 * `now`/`resolver` are injected by tests.
 */
export function startWebhookDelivery(o: {
  config: Pick<Config, 'webhooks' | 'queuePrefix'>;
  db: Knex;
  workerConnection: ConnectionOptions;
  producerConnection: ConnectionOptions;
  logger: Logger;
  resolver?: Resolver;
  now?: () => Date;
  staleMs?: number;
  staleEveryMs?: number;
}): { stop(): Promise<void>; wake(): Promise<void> } | null {
  const w = o.config.webhooks;
  const { box, policy } = webhookApiDeps(o.config, o.resolver);
  const logger = o.logger.child({ component: 'webhooks' });
  if (!box) {
    logger.warn('WEBHOOK_SECRETS_KEY is not set: webhook endpoints receive nothing');
    return null;
  }
  const queue = createWebhookQueue(o.producerConnection, { prefix: o.config.queuePrefix, attempts: w.maxAttempts });
  queue.on('error', (err) => logger.warn({ err: err.message }, 'webhook queue error'));
  const relay = startRelay({ db: o.db, queue, logger, now: o.now, intervalMs: w.relayIntervalMs, staleMs: o.staleMs ?? 5 * 60_000, staleEveryMs: o.staleEveryMs });
  const worker = startDeliveryWorker({
    db: o.db,
    box,
    policy,
    logger,
    timeoutMs: w.timeoutMs,
    disableAfterMs: w.disableAfterMs,
    now: o.now,
    connection: o.workerConnection,
    prefix: o.config.queuePrefix,
    retryBaseMs: w.retryBaseMs,
    retryMaxDelayMs: w.retryMaxDelayMs,
    // A later event of a subject re-checks its predecessor this often: half the first retry delay, 0.2–5 s.
    orderWaitMs: Math.min(5_000, Math.max(200, Math.round(w.retryBaseMs / 2))),
  });
  return {
    wake: () => relay.wake(),
    stop: async () => {
      await relay.stop();
      await worker.close();
      await queue.close();
    },
  };
}
