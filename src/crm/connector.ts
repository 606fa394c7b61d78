import type { Disposition } from '../domain/disposition';

/**
 * The contract between post-call work and a native CRM connector (HubSpot, Salesforce; issue 13 §7–9). A connector
 * is built from its stored (decrypted) credentials and non-secret settings by src/crm/connectors/index.ts; the
 * post-call worker calls {@link CrmConnector.logCall} once per completed call and connector (a BullMQ job, retried
 * on {@link CrmError} with `retryable`), and {@link CrmConnector.markDoNotCall} on an opt-out.
 */

/** One finished call as a CRM activity. Times are ISO 8601 UTC; phone numbers E.164 (the web test call has none). */
export interface CrmCallActivity {
  callSid: string;
  direction: 'inbound' | 'outbound' | 'web';
  /** The customer's number: `from` of an inbound call, `to` of an outbound one; null for a browser test call. */
  customerNumber: string | null;
  from: string;
  to: string;
  startedAt: string;
  endedAt: string | null;
  /** Talk time (ms): from Twilio's `CallDuration` when known, else endedAt − startedAt; 0 when it never connected. */
  durationMs: number;
  /** Twilio's final call status (`completed`, `busy`, `no-answer`, `failed`, `canceled`). */
  status: string;
  disposition: Disposition;
  /** Post-call summary (plain text, a few sentences); empty when there was no conversation. */
  summary: string;
  /** Link to the call in the dashboard (`<PUBLIC_BASE_URL>/calls/<callSid>`). */
  callUrl: string;
  /** Authenticated link to the recording, when the call was recorded. */
  recordingUrl: string | null;
  /** Per-agent extracted fields (agent's JSON schema), already validated. */
  fields: Record<string, unknown>;
}

/** What `logCall` created on the CRM side (stored on the delivery row so a retry does not log twice). */
export interface CrmLogResult {
  /** The CRM's id of the created activity (HubSpot call engagement id, Salesforce Task Id). */
  activityId: string;
  /** The CRM's id of the contact/lead the activity is associated with (found or created), or null. */
  contactId: string | null;
}

/** Result of "test connection": `ok`, and for a failure a sentence a CRM admin understands (no secrets). */
export interface ConnectionCheck {
  ok: boolean;
  message: string;
}

/** Why a CRM call failed, classified for retries and for admins. */
export type CrmErrorKind = 'auth' | 'rate_limited' | 'unavailable' | 'invalid' | 'not_found';

/**
 * A failed CRM request. `retryable`: rate_limited and unavailable (5xx, network, timeout) are retried by the job;
 * auth, invalid and not_found are not. `retryAfterMs` from a 429's `Retry-After` (s → ms) when given. The message
 * never carries a token (src/domain/redact.ts).
 */
export class CrmError extends Error {
  constructor(
    readonly kind: CrmErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'CrmError';
  }

  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}

/** A native CRM connector. Every method takes an AbortSignal (the job's timeout) and throws {@link CrmError}. */
export interface CrmConnector {
  readonly kind: 'hubspot' | 'salesforce';
  /** Finds (or, where the CRM allows, creates) the contact by phone and logs the call as an activity on it. */
  logCall(activity: CrmCallActivity, signal?: AbortSignal): Promise<CrmLogResult>;
  /** Marks the contact with this E.164 number do-not-call (no-op when the CRM has no such flag or no contact). */
  markDoNotCall(phone: string, signal?: AbortSignal): Promise<void>;
  /** Checks the credentials and permissions with one cheap read; never throws. */
  testConnection(signal?: AbortSignal): Promise<ConnectionCheck>;
}
