import type { CallsRepo } from '../db/calls';
import { enqueuePostCallJob, type PostCallQueue } from './queues';

/**
 * Starts a call's post-call pipeline: adds the `finalize-transcript` job (jobId `<callSid>-finalize-transcript`,
 * so a repeated enqueue is ignored) and then sets calls.post_call_enqueued_at. Call it after the call's rows are
 * written (CallsRepo.finish). If Redis is down this throws before marking the call; the caller should log and
 * carry on — the sweeper (src/jobs/sweeper.ts) re-enqueues ended calls that were never marked.
 * @throws ZodError for an invalid callSid; Redis errors from the queue; DB errors from the mark.
 */
export async function enqueuePostCall(
  queue: PostCallQueue,
  calls: Pick<CallsRepo, 'markPostCallEnqueued'>,
  callSid: string,
): Promise<void> {
  await enqueuePostCallJob(queue, 'finalize-transcript', { callSid });
  await calls.markPostCallEnqueued(callSid);
}
