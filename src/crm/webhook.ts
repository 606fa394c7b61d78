import { Webhook } from 'standardwebhooks';
import type { CallDetail } from '../db/calls';
import type { Disposition } from '../domain/disposition';
import type { ExtractedFields } from '../domain/extraction-schema';

/**
 * Outbound CRM webhook: build the `call.completed` event, sign it per Standard Webhooks (standardwebhooks.com,
 * npm `standardwebhooks`: `webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`), POST it and
 * classify the outcome. No retries here — the crm-sync job retries via BullMQ.
 */

export interface CallCompletedEvent {
  type: 'call.completed';
  /** ISO 8601: when the call ended (stable across retries), or when the event was built if the call has no end. */
  timestamp: string;
  data: {
    callSid: string;
    from: string;
    to: string;
    language: string | null;
    turns: Array<{ role: 'caller' | 'agent'; text: string; language: string | null; startMs: number; endMs: number }>;
    intent: string | null;
    csat: { score: number; method: string } | null;
    /** Post-call analysis (issue 13 §4): null when the call was not analysed. */
    summary: string | null;
    disposition: Disposition | null;
    extractedFields: ExtractedFields | null;
    status: string;
    startedAt: string;
    endedAt: string | null;
  };
}

/** The Standard Webhooks `webhook-id` of a call's event: `msg_<callSid>`, the same on every retry (receivers dedupe on it). */
export function webhookIdFor(callSid: string): string {
  return `msg_${callSid}`;
}

/** Builds the `call.completed` event from the API view of a call (CallsRepo.detail). */
export function buildCallCompletedEvent(d: CallDetail, now: Date = new Date()): CallCompletedEvent {
  return {
    type: 'call.completed',
    timestamp: d.endedAt ?? now.toISOString(),
    data: {
      callSid: d.callSid,
      from: d.from,
      to: d.to,
      language: d.language,
      turns: d.turns.map((t) => ({ role: t.role, text: t.text, language: t.language, startMs: t.startMs, endMs: t.endMs })),
      intent: d.intent,
      csat: d.csat ? { score: d.csat.score, method: d.csat.method } : null,
      summary: d.analysis?.summary ?? null,
      disposition: d.analysis?.disposition ?? null,
      extractedFields: d.analysis?.fields ?? null,
      status: d.status,
      startedAt: d.startedAt,
      endedAt: d.endedAt,
    },
  };
}

/**
 * Standard Webhooks request headers for `body`.
 * @param secret `whsec_<base64>` (or raw base64) signing secret.
 * @param at signing time; `webhook-timestamp` is its unix time in seconds.
 * @throws Error from `standardwebhooks` when the secret is not valid base64.
 */
export function signWebhook(secret: string, msgId: string, at: Date, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, body),
  };
}

/** What to do after an HTTP status: 2xx delivered; 408/429/5xx (and anything else) retry; other 4xx permanent. */
export function classifyStatus(status: number): 'delivered' | 'retry' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'permanent';
  return 'retry';
}

export type WebhookOutcome =
  | { outcome: 'delivered'; statusCode: number }
  | { outcome: 'retry' | 'permanent'; statusCode: number | null; error: string };

export interface SendWebhookOptions {
  url: string;
  secret: string;
  msgId: string;
  /** The JSON body (sent exactly as signed). */
  body: string;
  /** Per-request timeout (ms). Default 10 000. */
  timeoutMs?: number;
  /** Aborts the request (e.g. the job's cancellation signal). */
  signal?: AbortSignal;
  /** Injected for tests of odd transports; defaults to global fetch (Node 20). */
  fetchImpl?: typeof fetch;
}

/**
 * Signs and POSTs one webhook. Never throws for HTTP or network failures: returns the classified outcome with a
 * secret-free error text (status line, or the error name/code — never the URL, headers or secret).
 * @throws Error only when signing fails (invalid secret).
 */
export async function sendWebhook(o: SendWebhookOptions): Promise<WebhookOutcome> {
  const headers = signWebhook(o.secret, o.msgId, new Date(), o.body);
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await (o.fetchImpl ?? fetch)(o.url, { method: 'POST', headers, body: o.body, signal, redirect: 'manual' });
  } catch (err) {
    return { outcome: 'retry', statusCode: null, error: describeNetworkError(err) };
  }
  await res.arrayBuffer().catch(() => undefined); // drain so the socket is reused
  const outcome = classifyStatus(res.status);
  if (outcome === 'delivered') return { outcome, statusCode: res.status };
  return { outcome, statusCode: res.status, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`.slice(0, 200) };
}

/** A short description of a fetch failure without the URL (which may carry credentials), at most 200 characters. */
export function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError') return 'TimeoutError: request timed out';
  if (e?.name === 'AbortError') return 'AbortError: request aborted';
  const cause = e?.cause?.code ?? e?.cause?.name;
  return `${e?.name ?? 'Error'}: ${e?.message ?? 'request failed'}${cause ? ` (${cause})` : ''}`.replace(/https?:\/\/\S+/g, '<url>').slice(0, 200);
}
