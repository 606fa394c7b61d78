import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { CallsRepo } from '../src/db/calls';
import { PostCallRepo } from '../src/db/post-call';
import { createPostCallQueue, DEFAULT_QUEUE_PREFIX, POST_CALL_QUEUE, type PostCallKind, type PostCallPayload, type PostCallQueue } from '../src/jobs/queues';
import { createCrmSyncProcessor } from './processors/crm-sync';
import { createCsatProcessor } from './processors/csat';
import { createFinalizeTranscriptProcessor } from './processors/finalize-transcript';

export interface WorkerDeps {
  db: Knex;
  /** ioredis instance (or options) with `maxRetriesPerRequest: null`; see createRedisConnection(url, 'worker'). Not closed by `close()`. */
  connection: ConnectionOptions;
  /** Redis key prefix; must match the producers'. Default DEFAULT_QUEUE_PREFIX. */
  prefix?: string;
  logger: Logger;
  /** From Config.crm; `timeoutMs` is the per-request webhook timeout (default 10 000 ms). */
  crm: { webhookUrl?: string; webhookSecret?: string; maxAttempts: number; retryBaseMs: number; timeoutMs?: number };
  /** Jobs processed in parallel by this worker. Default 4. */
  concurrency?: number;
  fetchImpl?: typeof fetch;
}

export interface RunningWorkers {
  /** Producer handle on the same queue (processors use it to enqueue the next step). */
  queue: PostCallQueue;
  worker: Worker<PostCallPayload, unknown, PostCallKind>;
  /** Graceful stop: waits for active jobs (`worker.close()`), then closes the queue. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the post-call Worker on the `post-call` queue, dispatching by job name to the three processors
 * (finalize-transcript → csat → crm-sync; each enqueues the next). Used by workers/main.ts and in-process by
 * tests and the demo.
 */
export function startWorkers(deps: WorkerDeps): RunningWorkers {
  const prefix = deps.prefix ?? DEFAULT_QUEUE_PREFIX;
  const logger = deps.logger.child({ component: 'post-call-worker' });
  const queue = createPostCallQueue(deps.connection, { prefix });
  const calls = new CallsRepo(deps.db);
  const postCall = new PostCallRepo(deps.db);
  const processors: Record<PostCallKind, (job: Job<PostCallPayload>, token?: string, signal?: AbortSignal) => Promise<unknown>> = {
    'finalize-transcript': createFinalizeTranscriptProcessor({ calls, postCall, queue, logger }),
    csat: createCsatProcessor({
      calls,
      postCall,
      queue,
      logger,
      crmJobOptions: { attempts: deps.crm.maxAttempts, backoff: { type: 'exponential', delay: deps.crm.retryBaseMs } },
    }),
    'crm-sync': createCrmSyncProcessor({ calls, postCall, logger, crm: deps.crm, fetchImpl: deps.fetchImpl }),
  };
  const worker = new Worker<PostCallPayload, unknown, PostCallKind>(
    POST_CALL_QUEUE,
    async (job, token, signal) => {
      const processor = processors[job.name];
      if (!processor) throw new UnrecoverableError(`unknown post-call job name '${job.name}'`);
      return processor(job, token, signal);
    },
    { connection: deps.connection, prefix, concurrency: deps.concurrency ?? 4 },
  );
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, kind: job?.name, attemptsMade: job?.attemptsMade, err: err.message }, 'post-call job attempt failed');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'post-call worker error'));
  let closing: Promise<void> | undefined;
  return {
    queue,
    worker,
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        await queue.close();
      })()),
  };
}
