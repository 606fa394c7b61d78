import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { knowledgeJobSchema, type KnowledgeJob } from '../../src/jobs/knowledge-queue';
import { ingestErrorText, ingestStoredDocument, isRetryableIngestError, type IngestDeps } from '../../src/knowledge/ingest';

export interface KnowledgeIngestDeps extends IngestDeps {
  logger: Logger;
}

/** A knowledge job's return value (kept in Redis with the completed job). */
export interface KnowledgeJobResult {
  status: 'ready' | 'superseded' | 'deleted';
  documentId: string;
  /** Chunks stored (status `ready` only). */
  chunks?: number;
}

/**
 * `ingest-document` processor (queue `knowledge`): ingests the stored text of one uploaded document version with
 * {@link ingestStoredDocument} → `ready`. A job for a version that was re-uploaded or deleted meanwhile does nothing.
 * Failures:
 * - permanent ({@link isRetryableIngestError} false: no stored text, a non-retryable provider error, …) → the
 *   document is marked `failed` with the error and the job fails with UnrecoverableError (no retry);
 * - retryable (provider outage, 429, database blip) → the document stays `pending` and BullMQ retries with the
 *   job's backoff; on the last attempt (`attemptsMade + 1 >= opts.attempts`) it is marked `failed`.
 * Logs ids, counts and error messages, never the document text.
 * @throws UnrecoverableError (permanent) or the ingestion error (retryable), as above.
 */
export function createKnowledgeIngestProcessor(deps: KnowledgeIngestDeps) {
  return async function knowledgeIngest(job: Job<KnowledgeJob>): Promise<KnowledgeJobResult> {
    const parsed = knowledgeJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { documentId, version } = parsed.data;
    const log = deps.logger.child({ documentId, version, jobId: job.id, attempt: job.attemptsMade + 1 });
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      const r = await ingestStoredDocument(deps, documentId, { version, markFailed: (err) => lastAttempt || !isRetryableIngestError(err) });
      if (r.status === 'ready') {
        log.info({ chunks: r.chunks, agentId: r.document.agentId }, 'knowledge document ingested');
        return { status: 'ready', documentId, chunks: r.chunks };
      }
      log.info({ outcome: r.status }, 'knowledge job skipped: the document changed meanwhile');
      return { status: r.status, documentId };
    } catch (err) {
      const message = ingestErrorText(err);
      if (!isRetryableIngestError(err)) {
        log.warn({ err: message }, 'knowledge document failed (permanent error)');
        throw new UnrecoverableError(message);
      }
      log.warn({ err: message, final: lastAttempt }, lastAttempt ? 'knowledge document failed after its last attempt' : 'knowledge ingestion attempt failed; will retry');
      throw err;
    }
  };
}
