import { UnrecoverableError, type Job, type MinimalJob } from 'bullmq';
import type { Logger } from 'pino';
import { buildCallActivity, calleeOptedOut } from '../../src/crm/activity';
import { CrmError } from '../../src/crm/connector';
import { connectorUrls, createConnector } from '../../src/crm/connectors';
import type { CrmConnectorsRepo } from '../../src/db/crm-connectors';
import { safeErrorMessage } from '../../src/domain/redact';
import { connectorSyncPayloadSchema, enqueueConnectorSync, type PostCallPayload, type PostCallQueue } from '../../src/jobs/queues';
import type { SecretBox } from '../../src/webhooks/secret-box';
import { checkWebhookUrl, SsrfError, type SsrfPolicy } from '../../src/webhooks/ssrf';

/** The backoff type of connector-sync jobs (Worker `settings.backoffStrategy` = {@link connectorBackoff}). */
export const CONNECTOR_BACKOFF = 'crm-connector';

/** A retryable connector failure; `retryAfterMs` from the CRM's 429 `Retry-After`, read by {@link connectorBackoff}. */
export class ConnectorRetryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
    this.name = 'ConnectorRetryError';
  }
}

/**
 * BullMQ custom backoff for `crm-connector` jobs: exponential from the job's `backoff.delay` (ms; 2^(n−1) × delay,
 * with ±20 % jitter) capped at `maxDelayMs`, but never sooner than a 429's Retry-After (`ConnectorRetryError`).
 * Other backoff types are not handled (BullMQ then uses its built-ins). Units: ms.
 */
export function connectorBackoff(maxDelayMs = 3600_000) {
  return (attemptsMade: number, type?: string, err?: Error, job?: MinimalJob): number => {
    if (type !== CONNECTOR_BACKOFF) return -1; // BullMQ: < 0 → do not retry; only our type reaches here in practice
    const base = (job?.opts.backoff as { delay?: number } | undefined)?.delay ?? 2_000;
    const exp = Math.min(maxDelayMs, Math.pow(2, Math.max(0, attemptsMade - 1)) * base);
    const jittered = Math.round(exp * (0.8 + Math.random() * 0.4));
    const after = err instanceof ConnectorRetryError && err.retryAfterMs !== null ? err.retryAfterMs : 0;
    return Math.max(jittered, after);
  };
}

/**
 * Enqueues one `connector-sync` job per enabled connector for a completed call (deduped by jobId), with
 * `attempts` and the {@link CONNECTOR_BACKOFF} backoff from `retryBaseMs`. Called by crm-sync after `call.completed`.
 * @returns the job ids.
 */
export async function enqueueConnectorSyncs(d: { connectors: CrmConnectorsRepo; queue: PostCallQueue; maxAttempts: number; retryBaseMs: number }, callSid: string): Promise<string[]> {
  const enabled = await d.connectors.list({ enabled: true });
  return Promise.all(enabled.map((c) => enqueueConnectorSync(d.queue, callSid, c.id, { attempts: d.maxAttempts, backoff: { type: CONNECTOR_BACKOFF, delay: d.retryBaseMs } })));
}

export interface ConnectorSyncDeps {
  connectors: CrmConnectorsRepo;
  /** Opens sealed credentials (CRM_CREDENTIALS_KEY); null → every job fails permanently with that reason. */
  box: SecretBox | null;
  /** SSRF policy re-checked on URL settings at each attempt (DNS rebinding). */
  policy: SsrfPolicy;
  /** Dashboard origin for the call link, without trailing slash. */
  publicBaseUrl: string;
  /** Per-request timeout (ms) of the connector. */
  timeoutMs?: number;
  logger: Logger;
}

/**
 * `connector-sync` processor: logs one completed call to one native CRM connector (issue 13 §7–8) and, on an
 * opt-out in the call (src/crm/activity.ts calleeOptedOut: the `opted_out` disposition or an `opt_out` event), marks
 * the contact do-not-call. State per call × connector in crm_connector_deliveries:
 * the activity id is stored as soon as the CRM created it, so a retry (or a second run of the same job) never logs
 * the call twice; `delivered` once every step is done.
 * - Deleted or disabled connector → skipped (no row).
 * - CrmError retryable (429, 5xx, network, timeout) → row pending (failed on the last attempt), throws
 *   {@link ConnectorRetryError} (BullMQ retries with {@link connectorBackoff}, honouring Retry-After).
 * - CrmError not retryable (auth, invalid, not found), no key, undecryptable credentials, refused URL → row failed,
 *   UnrecoverableError.
 */
export function createConnectorSyncProcessor(deps: ConnectorSyncDeps) {
  return async function connectorSync(job: Job<PostCallPayload>, _token?: string, signal?: AbortSignal): Promise<{ status: string; activityId?: string }> {
    const parsed = connectorSyncPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${parsed.error.issues[0]?.message}`);
    const { callSid, connectorId } = parsed.data;
    const log = deps.logger.child({ callSid, connectorId, jobId: job.id, attempt: job.attemptsMade + 1 });
    const row = await deps.connectors.get(connectorId);
    if (!row || !row.enabled) {
      log.info('connector sync skipped: connector deleted or disabled');
      return { status: 'skipped' };
    }
    const existing = await deps.connectors.getDelivery(callSid, connectorId);
    if (existing?.status === 'delivered') return { status: 'delivered', activityId: existing.activityId ?? undefined };
    const source = await deps.connectors.activitySource(callSid);
    if (!source) throw new UnrecoverableError(`unknown callSid ${callSid}`);
    const delivery = await deps.connectors.beginAttempt(callSid, connectorId);
    const fail = async (message: string): Promise<never> => {
      await deps.connectors.recordFailure(callSid, connectorId, 'failed', message);
      log.warn({ error: message }, 'connector sync failed permanently');
      throw new UnrecoverableError(message);
    };
    if (!deps.box) return fail('CRM connectors are unavailable: the worker has no CRM_CREDENTIALS_KEY');
    let credentials: unknown;
    try {
      credentials = JSON.parse(deps.box.open(row.credentialsEnc));
    } catch {
      return fail("the stored credentials cannot be decrypted with this worker's CRM_CREDENTIALS_KEY: set them again");
    }
    for (const { where, url } of connectorUrls(row.settings, credentials)) {
      try {
        await checkWebhookUrl(url, deps.policy);
      } catch (err) {
        if (err instanceof SsrfError) return fail(`${where} refused: ${err.message}`);
        throw new ConnectorRetryError(`cannot resolve ${where}: ${safeErrorMessage(err)}`, null);
      }
    }
    const activity = buildCallActivity(source, deps.publicBaseUrl);
    try {
      const connector = createConnector(row, credentials, { timeoutMs: deps.timeoutMs });
      let activityId = delivery.activityId;
      if (!activityId) {
        const logged = await connector.logCall(activity, signal);
        activityId = logged.activityId;
        await deps.connectors.recordLogged(callSid, connectorId, logged);
        log.info({ activityId, contactId: logged.contactId, disposition: activity.disposition }, 'call logged to CRM');
      }
      if (calleeOptedOut(source) && activity.customerNumber) await connector.markDoNotCall(activity.customerNumber, signal);
      await deps.connectors.recordDelivered(callSid, connectorId);
      return { status: 'delivered', activityId };
    } catch (err) {
      if (!(err instanceof CrmError)) throw err;
      if (!err.retryable) return fail(err.message);
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await deps.connectors.recordFailure(callSid, connectorId, last ? 'failed' : 'pending', err.message);
      log.warn({ kind: err.kind, status: err.status, retryAfterMs: err.retryAfterMs, final: last }, 'connector sync attempt failed');
      throw new ConnectorRetryError(err.message, err.retryAfterMs);
    }
  };
}
