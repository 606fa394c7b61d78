import { UnrecoverableError, type Job, type JobsOptions } from 'bullmq';
import type { Logger } from 'pino';
import { scoreCsat, type CsatWeights } from '../../src/analytics/csat';
import { currentCsatWeights } from '../../src/analytics/csat-weights';
import { statedScoreOf } from '../../src/domain/csat';
import type { CallsRepo } from '../../src/db/calls';
import type { PostCallRepo } from '../../src/db/post-call';
import { enqueuePostCallJob, postCallPayloadSchema, type PostCallPayload, type PostCallQueue } from '../../src/jobs/queues';

export interface CsatDeps {
  calls: CallsRepo;
  postCall: PostCallRepo;
  queue: PostCallQueue;
  logger: Logger;
  /** Retry policy for the crm-sync job this step enqueues: `{ attempts, backoff }`. */
  crmJobOptions: Pick<JobsOptions, 'attempts' | 'backoff'>;
  /** The model's weights; default the loaded weights file (`currentCsatWeights`, CSAT_WEIGHTS_FILE). */
  weights?: CsatWeights;
}

/**
 * `csat` processor: scores the call with `scoreCsat` (src/analytics/csat.ts, with the loaded weights), copies the
 * caller's stated score from the call's `csat.stated` event (the end-of-call survey) beside it, upserts call_csat
 * (idempotent), then enqueues `crm-sync` with the CRM retry policy.
 * @throws UnrecoverableError for an invalid payload or unknown callSid.
 */
export function createCsatProcessor(deps: CsatDeps) {
  return async function csat(job: Job<PostCallPayload>): Promise<{ score: number }> {
    const parsed = postCallPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { callSid } = parsed.data;
    const call = await deps.calls.get(callSid);
    if (!call) throw new UnrecoverableError(`unknown callSid ${callSid}`);
    const [turns, events] = await Promise.all([deps.calls.turns(callSid), deps.calls.events(callSid)]);
    const durationMs = call.endedAt ? new Date(call.endedAt).getTime() - new Date(call.startedAt).getTime() : null;
    const result = scoreCsat({ turns, durationMs, eventTypes: events.map((e) => e.type) }, deps.weights ?? currentCsatWeights());
    const stated = statedScoreOf(events);
    await deps.postCall.upsertCsat(callSid, { score: result.score, method: result.method, details: { ...result.details }, stated });
    await enqueuePostCallJob(deps.queue, 'crm-sync', { callSid }, deps.crmJobOptions);
    deps.logger.info({ callSid, score: result.score, raw: result.details.raw, stated: stated?.score ?? null }, 'csat scored');
    return { score: result.score };
  };
}
