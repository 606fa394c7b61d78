import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { CallAnalysisRepo } from '../src/db/call-analysis';
import { CallsRepo } from '../src/db/calls';
import type { LlmCallAnalyzer } from '../src/domain/call-analysis';
import { PostCallRepo } from '../src/db/post-call';
import { createPostCallQueue, DEFAULT_QUEUE_PREFIX, POST_CALL_QUEUE, type PostCallKind, type PostCallPayload, type PostCallQueue } from '../src/jobs/queues';
import { KNOWLEDGE_QUEUE, type INGEST_JOB, type KnowledgeJob } from '../src/jobs/knowledge-queue';
import type { Embedder, VectorStore } from '../src/providers/types';
import type { ChunkOptions } from '../src/knowledge/chunker';
import { createKnowledgeIngestProcessor, type KnowledgeJobResult } from './processors/knowledge-ingest';
import { createAnalysisProcessor } from './processors/analysis';
import { createCrmSyncProcessor } from './processors/crm-sync';
import { connectorBackoff, createConnectorSyncProcessor, enqueueConnectorSyncs } from './processors/connector-sync';
import { CrmConnectorsRepo } from '../src/db/crm-connectors';
import type { SecretBox } from '../src/webhooks/secret-box';
import { ssrfPolicy, type SsrfPolicy } from '../src/webhooks/ssrf';
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
  /**
   * BullMQ job lock (ms, default 30 000) and stalled-check interval (ms, default 30 000) of the post-call Worker: a job
   * whose worker died (lock no longer renewed) goes back to `wait` within about lock + 2 × interval, once
   * (BullMQ maxStalledCount 1); a second stall fails it.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  fetchImpl?: typeof fetch;
  /**
   * Native CRM connectors (HubSpot, Salesforce): after `call.completed`, one `connector-sync` job per enabled
   * connector (retried `crm.maxAttempts` times from `crm.retryBaseMs`, honouring Retry-After). `box` opens the sealed
   * credentials (CRM_CREDENTIALS_KEY; null → those jobs fail with that reason), `policy` re-checks URL settings,
   * `publicBaseUrl` makes the call link. Absent: no connector jobs are enqueued.
   */
  connectors?: { box: SecretBox | null; policy?: SsrfPolicy; publicBaseUrl: string; timeoutMs?: number };
  /**
   * Knowledge ingestion (queue `knowledge`, see src/jobs/knowledge-queue.ts): when given, a second Worker ingests
   * uploaded documents with this embedder and vector store, one job at a time (so runs for one document never interleave).
   */
  knowledge?: { embedder: Embedder; vectors: VectorStore; chunking?: ChunkOptions };
  /**
   * Post-call analysis (the `analysis` step): `llm` is the structured-output analyzer (src/providers/call-analyzer.ts
   * builds it from Config); absent → the offline local analyzer. `llmTimeoutMs`: time the LLM gets before the local
   * analyzer takes over.
   */
  analysis?: { llm?: LlmCallAnalyzer; llmTimeoutMs?: number };
}

export interface RunningWorkers {
  /** Producer handle on the same queue (processors use it to enqueue the next step). */
  queue: PostCallQueue;
  worker: Worker<PostCallPayload, unknown, PostCallKind>;
  /** The knowledge-ingestion Worker, when `deps.knowledge` was given. */
  knowledgeWorker?: Worker<KnowledgeJob, KnowledgeJobResult, typeof INGEST_JOB>;
  /** Graceful stop: waits for active jobs (`worker.close()`), then closes the queue. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the post-call Worker on the `post-call` queue, dispatching by job name to the processors
 * (finalize-transcript → analysis → csat → crm-sync; each enqueues the next; crm-sync then fans out one connector-sync
 * job per enabled native CRM connector when `deps.connectors` is given), and, with `deps.knowledge`, the knowledge
 * Worker on the `knowledge` queue (processors/knowledge-ingest.ts). Used by workers/main.ts and in-process by
 * tests and the demo.
 */
export function startWorkers(deps: WorkerDeps): RunningWorkers {
  const prefix = deps.prefix ?? DEFAULT_QUEUE_PREFIX;
  const logger = deps.logger.child({ component: 'post-call-worker' });
  const queue = createPostCallQueue(deps.connection, { prefix });
  const calls = new CallsRepo(deps.db);
  const postCall = new PostCallRepo(deps.db);
  const connectors = new CrmConnectorsRepo(deps.db);
  const conn = deps.connectors;
  const processors: Record<PostCallKind, (job: Job<PostCallPayload>, token?: string, signal?: AbortSignal) => Promise<unknown>> = {
    'finalize-transcript': createFinalizeTranscriptProcessor({ calls, postCall, queue, logger }),
    analysis: createAnalysisProcessor({ analyses: new CallAnalysisRepo(deps.db), postCall, queue, logger, llm: deps.analysis?.llm, llmTimeoutMs: deps.analysis?.llmTimeoutMs }),
    csat: createCsatProcessor({
      calls,
      postCall,
      queue,
      logger,
      crmJobOptions: { attempts: deps.crm.maxAttempts, backoff: { type: 'exponential', delay: deps.crm.retryBaseMs } },
    }),
    'crm-sync': createCrmSyncProcessor({
      calls,
      postCall,
      logger,
      crm: deps.crm,
      fetchImpl: deps.fetchImpl,
      afterCompleted: conn ? (callSid) => enqueueConnectorSyncs({ connectors, queue, maxAttempts: deps.crm.maxAttempts, retryBaseMs: deps.crm.retryBaseMs }, callSid).then(() => undefined) : undefined,
    }),
    'connector-sync': conn
      ? createConnectorSyncProcessor({ connectors, box: conn.box, policy: conn.policy ?? ssrfPolicy([]), publicBaseUrl: conn.publicBaseUrl, timeoutMs: conn.timeoutMs, logger })
      : async () => {
          throw new UnrecoverableError('native CRM connectors are not configured on this worker');
        },
  };
  const worker = new Worker<PostCallPayload, unknown, PostCallKind>(
    POST_CALL_QUEUE,
    async (job, token, signal) => {
      const processor = processors[job.name];
      if (!processor) throw new UnrecoverableError(`unknown post-call job name '${job.name}'`);
      return processor(job, token, signal);
    },
    {
      connection: deps.connection,
      prefix,
      concurrency: deps.concurrency ?? 4,
      lockDuration: deps.lockDurationMs ?? 30_000,
      stalledInterval: deps.stalledIntervalMs ?? 30_000,
      settings: { backoffStrategy: connectorBackoff() },
    },
  );
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, kind: job?.name, attemptsMade: job?.attemptsMade, err: err.message }, 'post-call job attempt failed');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'post-call worker error'));
  // Without a listener BullMQ prints every Redis reconnect failure of the producer handle to stderr.
  queue.on('error', (err) => logger.warn({ err: err.message }, 'post-call queue error'));
  const knowledgeWorker = deps.knowledge ? startKnowledgeWorker(deps, deps.knowledge, prefix) : undefined;
  let closing: Promise<void> | undefined;
  return {
    queue,
    worker,
    knowledgeWorker,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([worker.close(), knowledgeWorker?.close()]);
        await queue.close();
      })()),
  };
}

function startKnowledgeWorker(deps: WorkerDeps, k: NonNullable<WorkerDeps['knowledge']>, prefix: string): Worker<KnowledgeJob, KnowledgeJobResult, typeof INGEST_JOB> {
  const logger = deps.logger.child({ component: 'knowledge-worker' });
  const processor = createKnowledgeIngestProcessor({ db: deps.db, embedder: k.embedder, vectors: k.vectors, chunking: k.chunking, logger });
  const worker = new Worker<KnowledgeJob, KnowledgeJobResult, typeof INGEST_JOB>(KNOWLEDGE_QUEUE, processor, { connection: deps.connection, prefix, concurrency: 1 });
  worker.on('error', (err) => logger.error({ err: err.message }, 'knowledge worker error'));
  return worker;
}
