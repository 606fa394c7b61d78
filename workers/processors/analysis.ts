import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { analyzeCall } from '../../src/analytics/call-analysis';
import type { CallAnalysisRepo } from '../../src/db/call-analysis';
import type { PostCallRepo } from '../../src/db/post-call';
import type { LlmCallAnalyzer } from '../../src/domain/call-analysis';
import { enqueuePostCallJob, postCallPayloadSchema, type PostCallPayload, type PostCallQueue } from '../../src/jobs/queues';

export interface AnalysisDeps {
  analyses: CallAnalysisRepo;
  postCall: PostCallRepo;
  queue: PostCallQueue;
  logger: Logger;
  /** The LLM analyzer (structured output); absent → the local analyzer (offline default). */
  llm?: LlmCallAnalyzer;
  /** Time the LLM gets before the local analyzer takes over (ms). Default src/analytics/call-analysis.ts's. */
  llmTimeoutMs?: number;
}

/**
 * `analysis` processor (between finalize-transcript and csat): reads the call's facts, runs {@link analyzeCall}
 * (disposition facts from the records; the LLM for summary/fields/resolution when configured, with the local
 * analyzer as fallback on error or timeout), stores the result on the call (idempotent: a re-run replaces it),
 * records one `analysis.completed` event (disposition and method only, never text), then enqueues `csat`.
 * @throws UnrecoverableError for an invalid payload or an unknown callSid.
 */
export function createAnalysisProcessor(deps: AnalysisDeps) {
  return async function analysis(job: Job<PostCallPayload>, _token?: string, signal?: AbortSignal): Promise<{ disposition: string; method: string }> {
    const parsed = postCallPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { callSid } = parsed.data;
    const facts = await deps.analyses.facts(callSid);
    if (!facts) throw new UnrecoverableError(`unknown callSid ${callSid}`);
    const result = await analyzeCall(facts, { llm: deps.llm, timeoutMs: deps.llmTimeoutMs, signal });
    if (result.fallbackReason) deps.logger.warn({ callSid, method: deps.llm?.method, reason: result.fallbackReason }, 'LLM call analysis failed: local analysis used');
    const { fallbackReason: _ignored, ...analysis } = result;
    await deps.analyses.save(callSid, analysis);
    await deps.postCall.addEventOnce(callSid, 'analysis.completed', { disposition: analysis.disposition, method: analysis.method, fields: Object.keys(analysis.fields).length, fallback: !!result.fallbackReason });
    await enqueuePostCallJob(deps.queue, 'csat', { callSid });
    deps.logger.info({ callSid, disposition: analysis.disposition, method: analysis.method }, 'call analysed');
    return { disposition: analysis.disposition, method: analysis.method };
  };
}
