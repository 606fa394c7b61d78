import { Queue, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import { DEFAULT_QUEUE_PREFIX, KEEP_COMPLETED_S, KEEP_FAILED_S } from './queues';

/**
 * Knowledge ingestion queue, shared by the REST API (producer) and workers/ (consumer).
 *
 * Its own BullMQ queue `knowledge`, not a kind of `post-call`: ingestion has its own worker concurrency (one job at
 * a time, so two runs for the same document never interleave), retry policy and failure semantics, and a burst of
 * uploads must not delay post-call work. The payload only names the document and the upload's version: the text
 * itself is stored on the document row (`knowledge_documents.source_text`) and read by the worker.
 *
 * Job ids are `<documentId>-v<version>`: one job per upload (a re-upload bumps the version, so it is never deduped
 * away as a repeat of the previous upload's job), and never containing ':' (BullMQ rejects custom ids with ':';
 * see queues.ts).
 */

/** The queue's name (Redis keys are `<prefix>:knowledge:*`). */
export const KNOWLEDGE_QUEUE = 'knowledge';
/** The one job name on the queue. */
export const INGEST_JOB = 'ingest-document';

export const knowledgeJobSchema = z
  .object({
    documentId: z.uuid(),
    /** KnowledgeDocument.version of the upload this job ingests. */
    version: z.number().int().min(1),
  })
  .strict();
export type KnowledgeJob = z.infer<typeof knowledgeJobSchema>;

export type KnowledgeQueue = Queue<KnowledgeJob, unknown, typeof INGEST_JOB>;

/** Deterministic job id `<documentId>-v<version>`. @throws ZodError on a bad payload. */
export function knowledgeJobId(job: KnowledgeJob): string {
  const j = knowledgeJobSchema.parse(job);
  return `${j.documentId}-v${j.version}`;
}

export interface KnowledgeQueueOptions {
  /** Redis key prefix (default {@link DEFAULT_QUEUE_PREFIX}); tests pass a unique one. */
  prefix?: string;
  /** Attempts per job (default 4): embedder / vector-store outages are retried with exponential backoff. */
  attempts?: number;
  /** First retry delay (ms, default 2 000), doubled per attempt. */
  backoffMs?: number;
}

/** Opens the `knowledge` queue (producer side; the worker opens its own Worker on the same name and prefix). Close with `queue.close()`. */
export function createKnowledgeQueue(connection: ConnectionOptions, o: KnowledgeQueueOptions = {}): KnowledgeQueue {
  return new Queue<KnowledgeJob, unknown, typeof INGEST_JOB>(KNOWLEDGE_QUEUE, {
    connection,
    prefix: o.prefix ?? DEFAULT_QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: o.attempts ?? 4,
      backoff: { type: 'exponential', delay: o.backoffMs ?? 2_000 },
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    },
  });
}

/** Default bound on one enqueue (ms): BullMQ waits for Redis forever while it is down. */
export const KNOWLEDGE_ENQUEUE_TIMEOUT_MS = 5_000;

/**
 * Adds the ingestion job of one upload (jobId {@link knowledgeJobId}; a repeat of the same upload is a no-op).
 * @returns the jobId.
 * @throws ZodError on a bad payload; Error('… timed out …') after `timeoutMs` (default
 *   {@link KNOWLEDGE_ENQUEUE_TIMEOUT_MS}) or Redis errors from `queue.add`.
 */
export async function enqueueKnowledgeIngest(queue: KnowledgeQueue, job: KnowledgeJob, o: { timeoutMs?: number } = {}): Promise<string> {
  const jobId = knowledgeJobId(job);
  const add = queue.add(INGEST_JOB, knowledgeJobSchema.parse(job), { jobId });
  add.catch(() => undefined); // a late failure after the timeout must not become an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const ms = o.timeoutMs ?? KNOWLEDGE_ENQUEUE_TIMEOUT_MS;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`enqueue of knowledge job ${jobId} timed out after ${ms} ms (Redis unreachable?)`)), ms);
  });
  try {
    await Promise.race([add, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return jobId;
}
