import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { WebhookOutboxRepo } from '../db/webhook-outbox';
import { enqueueDeliveries, type WebhookQueue } from './delivery-queue';

/**
 * The outbox relay: moves committed `webhook_outbox` rows into `webhook-delivery` jobs ({@link relayOnce}), and
 * re-adds the jobs of deliveries still pending after `staleMs` ({@link requeueStale}) — a Redis that lost its data
 * (flush, failover without persistence) loses no event: the job ids are deterministic, so re-adding a job that
 * still exists does nothing. Runs in the worker process (workers/main.ts).
 */
export interface RelayDeps {
  db: Knex;
  queue: WebhookQueue;
  logger: Logger;
  now?: () => Date;
  /** Outbox rows per transaction (default 200). */
  batch?: number;
}

/** Relays until the outbox is empty. @returns rows relayed. @throws DB or Redis errors (nothing is marked relayed then). */
export async function relayOnce(d: RelayDeps): Promise<number> {
  const repo = new WebhookOutboxRepo(d.db);
  let total = 0;
  for (;;) {
    const n = await repo.relayBatch(d.batch ?? 200, (d.now ?? (() => new Date()))(), (jobs) => enqueueDeliveries(d.queue, jobs));
    total += n;
    if (n < (d.batch ?? 200)) return total;
  }
}

/** Re-adds the jobs of pending deliveries untouched for `staleMs`. @returns how many were re-added (or found existing). */
export async function requeueStale(d: RelayDeps, staleMs: number, limit = 500): Promise<number> {
  const stale = await new WebhookOutboxRepo(d.db).stalePending((d.now ?? (() => new Date()))(), staleMs, limit);
  await enqueueDeliveries(d.queue, stale);
  return stale.length;
}

/**
 * Runs the relay every `intervalMs` and the stale re-queue every `staleEveryMs` (both default from the caller) until
 * `stop()`. Errors are logged and retried on the next tick. `wake()` runs a relay pass at once (tests, bench).
 */
export function startRelay(d: RelayDeps & { intervalMs: number; staleMs: number; staleEveryMs?: number }): { stop(): Promise<void>; wake(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let lastStale = 0;
  const tick = async () => {
    try {
      await relayOnce(d);
      const t = Date.now();
      if (t - lastStale >= (d.staleEveryMs ?? 60_000)) {
        lastStale = t;
        await requeueStale(d, d.staleMs);
      }
    } catch (err) {
      d.logger.warn({ err: (err as Error).message }, 'webhook relay pass failed; retrying');
    }
  };
  const loop = () => {
    if (stopped) return;
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, d.intervalMs);
    });
  };
  loop();
  return {
    wake: async () => {
      await running;
      await tick();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
