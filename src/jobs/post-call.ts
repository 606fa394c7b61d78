import type { CallsRepo } from '../db/calls';
import { enqueuePostCallJob, type PostCallQueue } from './queues';

/** Default bound on one enqueue (ms): BullMQ waits for Redis to be ready, which never happens while Redis is down. */
export const ENQUEUE_TIMEOUT_MS = 5_000;

/**
 * Starts a call's post-call pipeline: adds the `finalize-transcript` job (jobId `<callSid>-finalize-transcript`,
 * so a repeated enqueue is ignored) and then sets calls.post_call_enqueued_at. Call it after the call's rows are
 * written (CallsRepo.finish). If Redis is unreachable this throws after `timeoutMs` (default
 * {@link ENQUEUE_TIMEOUT_MS}) without marking the call; the caller should log and carry on — the sweeper
 * (src/jobs/sweeper.ts) re-enqueues ended calls that were never marked (an add that lands late is deduped by jobId).
 * @throws ZodError for an invalid callSid; Error('… timed out …') or Redis errors from the queue; DB errors from the mark.
 */
export async function enqueuePostCall(
  queue: PostCallQueue,
  calls: Pick<CallsRepo, 'markPostCallEnqueued'>,
  callSid: string,
  o: { timeoutMs?: number } = {},
): Promise<void> {
  const add = enqueuePostCallJob(queue, 'finalize-transcript', { callSid });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const ms = o.timeoutMs ?? ENQUEUE_TIMEOUT_MS;
    timer = setTimeout(() => reject(new Error(`enqueue of post-call jobs for ${callSid} timed out after ${ms} ms (Redis unreachable?)`)), ms);
  });
  add.catch(() => undefined); // a late failure after the timeout must not become an unhandled rejection
  try {
    await Promise.race([add, timeout]);
  } finally {
    clearTimeout(timer);
  }
  await calls.markPostCallEnqueued(callSid);
}
