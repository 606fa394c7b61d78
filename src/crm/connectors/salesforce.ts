import { Connection } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api';
import { z } from 'zod';
import type { Disposition } from '../../domain/disposition';
import { redactSecrets as redact } from '../../domain/redact';
import {
  CrmError,
  type ConnectionCheck,
  type CrmCallActivity,
  type CrmConnector,
  type CrmLogResult,
} from '../connector';

/**
 * Native Salesforce connector (issue 13 §8) over the REST API through `jsforce` 3. Wire facts: /work/shared/PROTOCOLS.md
 * ("Salesforce") and developer.salesforce.com (REST API: search, query, sobjects; Task call fields).
 *
 * - `logCall`: (1) idempotency — SOQL `SELECT Id, WhoId FROM Task WHERE CallObject = '<callSid>' LIMIT 1`; an existing
 *   Task is returned as is, so a retried job never logs twice; (2) SOSL
 *   `FIND {<E.164>} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)` (reserved characters escaped), then — when nothing
 *   matched — the same search with the national format (digits without the country code: `4155550123` for `+1…`,
 *   else the digits without `+`), because orgs often store numbers unformatted; a Contact wins over a Lead;
 *   (3) `POST /sobjects/Task/` with `Subject`, `CallType`, `CallDurationInSeconds`, `CallDisposition` (≤ 255),
 *   `CallObject` = callSid, `Description` = summary + call link (+ recording link), `WhoId` (omitted when nobody
 *   matched), `Status: 'Completed'`, `ActivityDate` (YYYY-MM-DD, UTC day of the call's start), `TaskSubtype: 'Call'`.
 * - `markDoNotCall`: the same phone search, then `PATCH /sobjects/<Contact|Lead>/<Id>` `{ DoNotCall: true }` on every match.
 * - `testConnection`: `GET /services/data/vXX.X/limits` (cheap, needs only API access).
 *
 * jsforce's own retries are switched off (`retry.maxRetries: 0`): the post-call job retries on a retryable
 * {@link CrmError}. Errors: 401/403 → `auth`, 429 or `REQUEST_LIMIT_EXCEEDED` → `rate_limited` (with `Retry-After`
 * s → ms when sent), 5xx / network / timeout → `unavailable`, 404 → `not_found`, other 4xx → `invalid`. Messages are
 * passed through src/domain/redact.ts and never carry the token.
 */

/** Stored (decrypted) credentials: the org's instance URL and an OAuth access token (session id). */
export const salesforceCredentialsSchema = z
  .object({
    instanceUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'instanceUrl must be an http(s) URL'),
    accessToken: z.string().min(1),
  })
  .strict();
export type SalesforceCredentials = z.infer<typeof salesforceCredentialsSchema>;

/** Non-secret settings. `apiVersion`: REST API version without the `v` (default {@link DEFAULT_SALESFORCE_API_VERSION}). */
export interface SalesforceSettings {
  apiVersion?: string;
}

export interface SalesforceConnectorOptions {
  /** Per-request timeout (ms) when the caller gives no AbortSignal deadline of its own; default 15 000. */
  timeoutMs?: number;
}

export const DEFAULT_SALESFORCE_API_VERSION = '62.0';

/** Salesforce's `CallDisposition` is free text (≤ 255 chars); these are the words an admin sees on the Task. */
const DISPOSITION_LABEL: Record<Disposition, string> = {
  resolved: 'Resolved',
  unresolved: 'Unresolved',
  transferred: 'Transferred to agent',
  voicemail: 'Left voicemail',
  no_answer: 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  opted_out: 'Opted out (do not call)',
  callback_booked: 'Callback booked',
  wrong_number: 'Wrong number',
  abandoned: 'Abandoned',
};

/** SOSL reserved characters (developer.salesforce.com, SOSL "FIND" clause): escaped with a backslash. */
const SOSL_RESERVED = /[?&|!{}[\]()^~*:\\"'+-]/g;

/** `text` escaped for a SOSL `FIND {…}` term. */
export function escapeSosl(text: string): string {
  return text.replace(SOSL_RESERVED, (c) => `\\${c}`);
}

/** `text` escaped for a SOQL string literal (backslash and single quote). */
export function escapeSoqlString(text: string): string {
  return text.replace(/[\\']/g, (c) => `\\${c}`);
}

/** The national form searched when the E.164 form finds nothing: `+14155550123` → `4155550123`; `+44…` → `44…`. */
export function nationalFormat(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  return e164.startsWith('+1') && digits.length === 11 ? digits.slice(1) : digits;
}

interface SearchRecord {
  Id: string;
  attributes?: { type?: string };
}

/** A Contact or Lead found by phone. */
interface Person {
  type: 'Contact' | 'Lead';
  id: string;
}

/**
 * Builds a Salesforce {@link CrmConnector}. `credentials` must already be validated with
 * {@link salesforceCredentialsSchema}. No request is sent until a method is called.
 */
export function createSalesforceConnector(
  credentials: SalesforceCredentials,
  settings: SalesforceSettings = {},
  opts: SalesforceConnectorOptions = {},
): CrmConnector {
  const version = settings.apiVersion ?? DEFAULT_SALESFORCE_API_VERSION;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const conn = new Connection({ instanceUrl: credentials.instanceUrl, accessToken: credentials.accessToken, version });
  const base = `/services/data/v${version}`;

  /** One REST call through jsforce's HttpApi (auth header, JSON, Salesforce error parsing), classified on failure. */
  async function call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new CrmError('unavailable', 'Salesforce request aborted before it was sent');
    const api = new HttpApi(conn, { retry: { maxRetries: 0 } });
    let status: number | null = null;
    let headers: Record<string, string | string[] | undefined> = {};
    api.on('response', (res: { statusCode: number; headers: Record<string, string> }) => {
      status = res.statusCode;
      headers = res.headers ?? {};
    });
    const request = api.request<T>({
      method,
      url: `${credentials.instanceUrl.replace(/\/+$/, '')}${base}${path}`,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CrmError('unavailable', `Salesforce did not answer within ${timeoutMs} ms`)), timeoutMs);
      onAbort = () => reject(new CrmError('unavailable', 'Salesforce request aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([Promise.resolve(request), stop]);
    } catch (err) {
      if (err instanceof CrmError) throw err;
      throw classify(err, status, headers);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  async function searchOnce(term: string, signal?: AbortSignal): Promise<Person[]> {
    const sosl = `FIND {${escapeSosl(term)}} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)`;
    const res = await call<{ searchRecords?: SearchRecord[] }>('GET', `/search?q=${encodeURIComponent(sosl)}`, undefined, signal);
    const people: Person[] = [];
    for (const r of res?.searchRecords ?? []) {
      const type = r.attributes?.type;
      if (type === 'Contact' || type === 'Lead') people.push({ type, id: r.Id });
    }
    // Contacts first (a converted Lead's Contact is the live record), then Leads, each in Salesforce's order.
    return [...people.filter((p) => p.type === 'Contact'), ...people.filter((p) => p.type === 'Lead')];
  }

  /** Contacts and Leads with this number: E.164 first, national format when E.164 found nothing. */
  async function findPeople(phone: string, signal?: AbortSignal): Promise<Person[]> {
    const found = await searchOnce(phone, signal);
    if (found.length > 0) return found;
    const national = nationalFormat(phone);
    if (national === phone || national.length < 4) return found;
    return searchOnce(national, signal);
  }

  return {
    kind: 'salesforce',

    async logCall(activity: CrmCallActivity, signal?: AbortSignal): Promise<CrmLogResult> {
      const soql = `SELECT Id, WhoId FROM Task WHERE CallObject = '${escapeSoqlString(activity.callSid)}' LIMIT 1`;
      const existing = await call<{ records?: Array<{ Id: string; WhoId?: string | null }> }>(
        'GET',
        `/query?q=${encodeURIComponent(soql)}`,
        undefined,
        signal,
      );
      const prior = existing?.records?.[0];
      if (prior) return { activityId: prior.Id, contactId: prior.WhoId ?? null };

      const who = activity.customerNumber ? (await findPeople(activity.customerNumber, signal))[0] ?? null : null;
      const task = taskFields(activity, who?.id ?? null);
      const created = await call<{ id?: string; success?: boolean; errors?: unknown[] }>('POST', '/sobjects/Task/', task, signal);
      if (!created?.id || created.success === false) {
        throw new CrmError('invalid', `Salesforce did not create the Task: ${redact(JSON.stringify(created?.errors ?? created))}`);
      }
      return { activityId: created.id, contactId: who?.id ?? null };
    },

    async markDoNotCall(phone: string, signal?: AbortSignal): Promise<void> {
      const people = await findPeople(phone, signal);
      for (const p of people) {
        await call('PATCH', `/sobjects/${p.type}/${encodeURIComponent(p.id)}`, { DoNotCall: true }, signal);
      }
    },

    async testConnection(signal?: AbortSignal): Promise<ConnectionCheck> {
      try {
        await call('GET', '/limits', undefined, signal);
        return { ok: true, message: `Connected to Salesforce at ${credentials.instanceUrl} (API v${version}).` };
      } catch (err) {
        return { ok: false, message: adminMessage(err, credentials.instanceUrl, version) };
      }
    },
  };
}

/** The Task body for one call (field names per PROTOCOLS.md "Salesforce"). */
export function taskFields(activity: CrmCallActivity, whoId: string | null): Record<string, unknown> {
  const label = DISPOSITION_LABEL[activity.disposition] ?? activity.disposition;
  const lines = [activity.summary.trim(), `Call: ${activity.callUrl}`];
  if (activity.recordingUrl) lines.push(`Recording: ${activity.recordingUrl}`);
  const task: Record<string, unknown> = {
    Subject: `Call: ${label}`.slice(0, 255),
    CallType: activity.direction === 'inbound' ? 'Inbound' : activity.direction === 'outbound' ? 'Outbound' : 'Internal',
    CallDurationInSeconds: Math.max(0, Math.round(activity.durationMs / 1000)),
    CallDisposition: label.slice(0, 255),
    CallObject: activity.callSid,
    Description: lines.filter((l) => l.length > 0).join('\n\n'),
    Status: 'Completed',
    ActivityDate: activity.startedAt.slice(0, 10),
    TaskSubtype: 'Call',
  };
  if (whoId) task.WhoId = whoId;
  return task;
}

/** jsforce error (HttpApiError `{ errorCode, message }`, or a fetch error `{ code }`) + last HTTP status → CrmError. */
function classify(err: unknown, status: number | null, headers: Record<string, string | string[] | undefined>): CrmError {
  const e = err as { errorCode?: string; code?: string; message?: string; name?: string };
  const code = e?.errorCode ?? e?.code ?? '';
  const msg = redact(`${code ? `${code}: ` : ''}${e?.message ?? String(err)}`).slice(0, 500);
  if (status === null) return new CrmError('unavailable', `Salesforce unreachable: ${msg}`);
  if (status === 429 || code === 'REQUEST_LIMIT_EXCEEDED') {
    return new CrmError('rate_limited', `Salesforce rate limit: ${msg}`, status, retryAfterMs(headers['retry-after']));
  }
  if (status === 401 || status === 403) return new CrmError('auth', `Salesforce refused the credentials: ${msg}`, status);
  if (status >= 500) return new CrmError('unavailable', `Salesforce error ${status}: ${msg}`, status);
  if (status === 404) return new CrmError('not_found', `Salesforce: not found: ${msg}`, status);
  return new CrmError('invalid', `Salesforce rejected the request (${status}): ${msg}`, status);
}

/** `Retry-After` seconds (or an HTTP date) → ms; null when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** A sentence for a CRM admin from a failed test-connection read. */
function adminMessage(err: unknown, instanceUrl: string, version: string): string {
  if (!(err instanceof CrmError)) return 'Salesforce check failed for an unexpected reason.';
  const code = /^[^:]*: ([A-Z_]+):/.exec(err.message)?.[1] ?? '';
  if (err.status === null) {
    return `Could not reach Salesforce at ${instanceUrl}: check the instance URL (e.g. https://yourorg.my.salesforce.com) and that it is reachable from this server.`;
  }
  if (err.status === 401 || code === 'INVALID_SESSION_ID') {
    return 'Salesforce rejected the access token: the session expired or was revoked. Reconnect Salesforce with a new token.';
  }
  if (err.status === 403) {
    if (code === 'API_DISABLED_FOR_ORG') return 'The Salesforce org does not allow API access (API is disabled for this edition or org).';
    return 'The Salesforce user lacks permission for this: give it "API Enabled" and access to Contacts, Leads and Tasks.';
  }
  if (err.kind === 'rate_limited') return 'Salesforce says the org has used up its API request limit; try again later.';
  if (err.status === 404) return `The Salesforce instance at ${instanceUrl} does not offer REST API v${version}: check the instance URL and API version.`;
  if (err.kind === 'unavailable') return `Salesforce is temporarily unavailable (HTTP ${err.status}); try again in a few minutes.`;
  return `Salesforce refused the check (HTTP ${err.status}).`;
}
