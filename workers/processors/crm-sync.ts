import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { buildCallCompletedEvent, sendWebhook, webhookIdFor } from '../../src/crm/webhook';
import type { CallsRepo } from '../../src/db/calls';
import type { PostCallRepo } from '../../src/db/post-call';
import { postCallPayloadSchema, type PostCallPayload } from '../../src/jobs/queues';

export interface CrmSyncDeps {
  calls: CallsRepo;
  postCall: PostCallRepo;
  logger: Logger;
  crm: {
    /** No URL → the delivery is recorded as 'skipped'. */
    webhookUrl?: string;
    /** `whsec_<base64>` Standard Webhooks secret. */
    webhookSecret?: string;
    /** Per-request timeout (ms). Default 10 000. */
    timeoutMs?: number;
  };
  fetchImpl?: typeof fetch;
  /** Runs once `call.completed` is written (every attempt; must be idempotent): enqueues the native CRM connector jobs. */
  afterCompleted?: (callSid: string) => Promise<void>;
}

/**
 * `crm-sync` processor (the last post-call step): writes the catalog's `call.completed` event into the webhook outbox
 * (once; src/db/post-call.ts), then POSTs the signed `call.completed` event (src/crm/webhook.ts) to the legacy
 * CRM_WEBHOOK_URL.
 * Every attempt updates crm_deliveries: attempts + 1, then delivered | pending (will retry) | failed.
 * - 2xx → delivered. Already delivered (a re-enqueue) → nothing is sent again.
 * - 4xx except 408/429 → failed, UnrecoverableError (no retry).
 * - 408/429/5xx/network/timeout → throws so BullMQ retries with the job's backoff; on the last attempt
 *   (`attemptsMade + 1 >= opts.attempts`, BullMQ's own retry test in Job.moveToFailed) the row is marked failed.
 * @throws UnrecoverableError (permanent) or Error (retryable) as above.
 */
export function createCrmSyncProcessor(deps: CrmSyncDeps) {
  return async function crmSync(job: Job<PostCallPayload>, _token?: string, signal?: AbortSignal): Promise<{ status: string; statusCode?: number }> {
    const parsed = postCallPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { callSid } = parsed.data;
    const webhookId = webhookIdFor(callSid);
    const log = deps.logger.child({ callSid, jobId: job.id, attempt: job.attemptsMade + 1 });

    // The event catalog's call.completed (every subscribed webhook endpoint), written once whatever the CRM does.
    const completed = await deps.calls.detail(callSid);
    if (!completed) throw new UnrecoverableError(`unknown callSid ${callSid}`);
    await deps.postCall.emitCallCompleted({ ...buildCallCompletedEvent(completed).data, direction: completed.direction });
    await deps.afterCompleted?.(callSid);

    if (!deps.crm.webhookUrl) {
      await deps.postCall.markDeliverySkipped(callSid, webhookId);
      log.info('crm sync skipped: no CRM webhook URL configured');
      return { status: 'skipped' };
    }
    const existing = await deps.postCall.getDelivery(callSid);
    if (existing?.status === 'delivered') {
      log.info('crm sync: already delivered');
      return { status: 'delivered' };
    }
    const detail = completed;
    await deps.postCall.beginDeliveryAttempt(callSid, webhookId);
    if (!deps.crm.webhookSecret) {
      await deps.postCall.recordDeliveryResult(callSid, { status: 'failed', statusCode: null, error: 'CRM webhook secret not configured' });
      throw new UnrecoverableError('CRM webhook secret not configured');
    }
    const body = JSON.stringify(buildCallCompletedEvent(detail));
    const result = await sendWebhook({
      url: deps.crm.webhookUrl,
      secret: deps.crm.webhookSecret,
      msgId: webhookId,
      body,
      timeoutMs: deps.crm.timeoutMs,
      signal,
      fetchImpl: deps.fetchImpl,
    });
    if (result.outcome === 'delivered') {
      await deps.postCall.recordDeliveryResult(callSid, { status: 'delivered', statusCode: result.statusCode, error: null });
      log.info({ statusCode: result.statusCode, bytes: body.length }, 'crm webhook delivered');
      return { status: 'delivered', statusCode: result.statusCode };
    }
    const last = result.outcome === 'permanent' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await deps.postCall.recordDeliveryResult(callSid, { status: last ? 'failed' : 'pending', statusCode: result.statusCode, error: result.error });
    log.warn({ statusCode: result.statusCode, error: result.error, final: last }, 'crm webhook attempt failed');
    if (result.outcome === 'permanent') throw new UnrecoverableError(`CRM webhook rejected: ${result.error}`);
    throw new Error(`CRM webhook attempt failed: ${result.error}`);
  };
}
