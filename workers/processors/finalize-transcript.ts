import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { summarizeTranscript } from '../../src/analytics/transcript';
import type { CallsRepo } from '../../src/db/calls';
import type { PostCallRepo } from '../../src/db/post-call';
import { enqueuePostCallJob, postCallPayloadSchema, type PostCallPayload, type PostCallQueue } from '../../src/jobs/queues';

export interface FinalizeTranscriptDeps {
  calls: CallsRepo;
  postCall: PostCallRepo;
  queue: PostCallQueue;
  logger: Logger;
}

/**
 * `finalize-transcript` processor: computes the call's dominant language and final intent (written only where the
 * call row has none), records one `transcript.finalized` call event with counts (never text), then enqueues `analysis`.
 * Idempotent: re-running changes nothing and the next job's deterministic id dedupes the enqueue.
 * @throws UnrecoverableError for an invalid payload or unknown callSid (no retry).
 */
export function createFinalizeTranscriptProcessor(deps: FinalizeTranscriptDeps) {
  return async function finalizeTranscript(job: Job<PostCallPayload>): Promise<{ language: string | null; intent: string | null; turns: number }> {
    const parsed = postCallPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { callSid } = parsed.data;
    const call = await deps.calls.get(callSid);
    if (!call) throw new UnrecoverableError(`unknown callSid ${callSid}`);
    const summary = summarizeTranscript(await deps.calls.turns(callSid));
    await deps.postCall.fillCallSummary(callSid, { language: summary.language, intent: summary.intent });
    const inserted = await deps.postCall.addEventOnce(callSid, 'transcript.finalized', {
      ...summary.counts,
      spanMs: summary.spanMs,
      language: call.language ?? summary.language,
      intent: call.intent ?? summary.intent,
    });
    await enqueuePostCallJob(deps.queue, 'analysis', { callSid });
    deps.logger.info({ callSid, turns: summary.counts.turns, language: summary.language, firstRun: inserted }, 'transcript finalized');
    return { language: call.language ?? summary.language, intent: call.intent ?? summary.intent, turns: summary.counts.turns };
  };
}
