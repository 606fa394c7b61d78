import http from 'node:http';
import https from 'node:https';
import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/calls';
import { z } from 'zod';
import type { Disposition } from '../../domain/disposition';
import { redactSecrets } from '../../domain/redact';
import { CrmError, type ConnectionCheck, type CrmCallActivity, type CrmConnector, type CrmLogResult } from '../connector';

/**
 * Native HubSpot connector (issue 13 §7) on `@hubspot/api-client` v13 with a private app token. Wire facts:
 * PROTOCOLS.md "HubSpot" (CRM v3: contacts search/create/update, `POST /crm/v3/objects/calls` with association type
 * 194 call → contact, the `hs_call_disposition` outcome GUIDs).
 *
 * Retries: the SDK's own retry decorator is left OFF (`numberOfApiCallRetries` unset = 0, no `limiterOptions`): the
 * connector-sync BullMQ job is the one retry policy (429 → rate_limited with Retry-After, 5xx/network → unavailable).
 * Note the SDK keeps its decorators in a process-wide singleton (ApiDecoratorService), so setting retries on any
 * Client would change every Client in the process — one more reason not to.
 *
 * Timeouts: the SDK's HTTP layer (node-fetch) takes no AbortSignal and has no timeout, so each request is raced
 * against the caller's signal and `timeoutMs`; on expiry the connector's own http(s).Agent is destroyed (closing the
 * request's socket) and `CrmError('unavailable')` is thrown.
 */

/** HubSpot's call outcome ("disposition") GUIDs (PROTOCOLS.md "HubSpot"; HubSpot's default outcomes). */
export const HUBSPOT_OUTCOMES = {
  busy: '9d9162e7-6cf3-4944-bf63-4dff82258764',
  connected: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
  leftLiveMessage: 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff',
  leftVoicemail: 'b2cf5968-551e-4856-9783-52b3da59a7d0',
  noAnswer: '73a0d17f-1163-4015-bdd5-ec830791da20',
  wrongNumber: '17b47fee-58de-441e-a44c-c6300d46f273',
} as const;

/**
 * Our disposition → HubSpot outcome GUID. A conversation (resolved, unresolved, transferred, callback booked, opted
 * out, abandoned after pick-up) is "connected"; `failed` has no HubSpot outcome (hs_call_status FAILED says it) → null.
 */
export function hubspotOutcomeFor(d: Disposition): string | null {
  switch (d) {
    case 'voicemail':
      return HUBSPOT_OUTCOMES.leftVoicemail;
    case 'no_answer':
      return HUBSPOT_OUTCOMES.noAnswer;
    case 'busy':
      return HUBSPOT_OUTCOMES.busy;
    case 'wrong_number':
      return HUBSPOT_OUTCOMES.wrongNumber;
    case 'failed':
      return null;
    default:
      return HUBSPOT_OUTCOMES.connected;
  }
}

/** Twilio's final CallStatus → HubSpot `hs_call_status`. */
export function hubspotCallStatusFor(twilioStatus: string): string {
  const map: Record<string, string> = {
    completed: 'COMPLETED',
    busy: 'BUSY',
    'no-answer': 'NO_ANSWER',
    failed: 'FAILED',
    canceled: 'CANCELED',
    'in-progress': 'IN_PROGRESS',
    ringing: 'RINGING',
    queued: 'QUEUED',
  };
  return map[twilioStatus] ?? 'COMPLETED';
}

/** HubSpot credentials: a private app token (`pat-…`). Scopes: crm.objects.contacts.read/write (calls are logged through the contacts scopes). */
export const hubspotCredentialsSchema = z.strictObject({ accessToken: z.string().trim().min(10, 'accessToken: paste the private app token') });
export type HubspotCredentials = z.infer<typeof hubspotCredentialsSchema>;

/**
 * HubSpot settings (not secret): `basePath` overrides https://api.hubapi.com (a local double in tests);
 * `doNotCallProperty` is the contact property set to `true` on an opt-out. HubSpot has no standard "do not call"
 * contact property that we could verify (its communication-preferences API covers email/SMS/WhatsApp only), so
 * this names a single-checkbox contact property the HubSpot admin creates (default `do_not_call`).
 */
export const hubspotSettingsSchema = z.strictObject({
  basePath: z.url({ protocol: /^https?$/ }).max(500).optional(),
  doNotCallProperty: z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, 'a HubSpot property internal name (lowercase letters, digits, _)').optional(),
});
export type HubspotSettings = z.infer<typeof hubspotSettingsSchema>;

export const DEFAULT_DNC_PROPERTY = 'do_not_call';

export interface HubspotOptions {
  /** Per-request timeout (ms). Default 10 000. */
  timeoutMs?: number;
}

const retryAfterMs = (headers: Record<string, string> | undefined): number | null => {
  const v = headers?.['retry-after'];
  if (v === undefined) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
};

const hubspotMessage = (body: unknown): string => {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  if (typeof body === 'string') return body.slice(0, 200);
  return '';
};

/**
 * An SDK failure as a {@link CrmError} with a message a HubSpot admin understands (no token: redacted).
 * `what` names the operation ("searching contacts").
 */
export function hubspotError(err: unknown, what: string): CrmError {
  if (err instanceof CrmError) return err;
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string>; message?: string };
  const status = typeof e?.code === 'number' ? e.code : null;
  const detail = redactSecrets(hubspotMessage(e?.body)).slice(0, 300);
  const tail = detail ? ` HubSpot said: ${detail}` : '';
  if (status === 401)
    return new CrmError('auth', 'HubSpot rejected the private app token (401): check that the token is current and the app has the crm.objects.contacts.read scope.', 401);
  if (status === 403)
    return new CrmError('auth', `HubSpot refused ${what} (403): the private app lacks a scope it needs (crm.objects.contacts.read and crm.objects.contacts.write).${tail}`, 403);
  if (status === 429) {
    const ms = retryAfterMs(e.headers);
    return new CrmError('rate_limited', `HubSpot is rate limiting this app (429) while ${what}${ms !== null ? `; retry after ${Math.ceil(ms / 1000)} s` : ''}.`, 429, ms);
  }
  if (status !== null && status >= 500) return new CrmError('unavailable', `HubSpot had a server error (${status}) while ${what}; it will be retried.${tail}`, status);
  if (status === 404) return new CrmError('not_found', `HubSpot found nothing while ${what} (404).${tail}`, 404);
  if (status !== null) return new CrmError('invalid', `HubSpot refused ${what} (${status}).${tail}`, status);
  const cause = (err as { code?: string; errno?: string; type?: string })?.errno ?? (err as { type?: string })?.type;
  return new CrmError('unavailable', `HubSpot is unreachable while ${what}${cause ? ` (${cause})` : ''}: check the network or the base URL.`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined);
/** First/last name from the call's extracted fields (`firstName`/`first_name`, `lastName`, or a full `name`). */
export function namesFrom(fields: Record<string, unknown>): { firstname?: string; lastname?: string } {
  const byKey = new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase().replace(/[_\s-]/g, ''), v]));
  let firstname = str(byKey.get('firstname'));
  let lastname = str(byKey.get('lastname'));
  const full = str(byKey.get('name')) ?? str(byKey.get('fullname')) ?? str(byKey.get('callername'));
  if (!firstname && !lastname && full) {
    const parts = full.split(/\s+/);
    firstname = parts[0];
    lastname = parts.length > 1 ? parts.slice(1).join(' ') : undefined;
  }
  return { ...(firstname ? { firstname: firstname.slice(0, 100) } : {}), ...(lastname ? { lastname: lastname.slice(0, 100) } : {}) };
}

/** The `hs_call_body`: the summary, then the link to the call in the dashboard (and the recording when there is one). */
export function hubspotCallBody(a: CrmCallActivity): string {
  return [a.summary.trim(), `Call details: ${a.callUrl}`, ...(a.recordingUrl ? [`Recording: ${a.recordingUrl}`] : [])].filter(Boolean).join('\n\n');
}

/** The call engagement's properties (all strings, as HubSpot's API takes them). */
export function hubspotCallProperties(a: CrmCallActivity): Record<string, string> {
  const outcome = hubspotOutcomeFor(a.disposition);
  const direction = a.direction === 'outbound' ? 'OUTBOUND' : 'INBOUND';
  return {
    hs_timestamp: a.startedAt,
    hs_call_title: `${direction === 'OUTBOUND' ? 'Outbound' : 'Inbound'} AI agent call${a.customerNumber ? ` with ${a.customerNumber}` : ''}`,
    hs_call_body: hubspotCallBody(a),
    hs_call_direction: direction,
    hs_call_duration: String(Math.max(0, Math.round(a.durationMs))),
    hs_call_from_number: a.from,
    hs_call_to_number: a.to,
    hs_call_status: hubspotCallStatusFor(a.status),
    ...(outcome ? { hs_call_disposition: outcome } : {}),
    ...(a.recordingUrl ? { hs_call_recording_url: a.recordingUrl } : {}),
  };
}

/** Association type id of HUBSPOT_DEFINED call → contact (PROTOCOLS.md "HubSpot"). */
export const CALL_TO_CONTACT = 194;

/**
 * Builds the HubSpot connector. `credentials` and `settings` must already be validated
 * ({@link hubspotCredentialsSchema}, {@link hubspotSettingsSchema}). Every method throws {@link CrmError} (never the
 * SDK's ApiException, whose message would carry response headers).
 */
export function createHubspotConnector(credentials: HubspotCredentials, settings: HubspotSettings, opts: HubspotOptions = {}): CrmConnector {
  const basePath = (settings.basePath ?? 'https://api.hubapi.com').replace(/\/+$/, '');
  const agent = basePath.startsWith('https:') ? new https.Agent() : new http.Agent();
  const client = new Client({ accessToken: credentials.accessToken, basePath, httpAgent: agent });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const dncProperty = settings.doNotCallProperty ?? DEFAULT_DNC_PROPERTY;

  /** Runs one SDK request under the caller's signal and the timeout; maps failures to CrmError. */
  const call = <T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    if (s.aborted) return Promise.reject(new CrmError('unavailable', `HubSpot request aborted before ${what}`));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        agent.destroy();
        reject(new CrmError('unavailable', timeout.aborted ? `HubSpot did not answer within ${timeoutMs} ms while ${what}.` : `HubSpot request aborted while ${what}.`));
      };
      s.addEventListener('abort', onAbort, { once: true });
      fn().then(
        (v) => {
          s.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err) => {
          s.removeEventListener('abort', onAbort);
          reject(hubspotError(err, what));
        },
      );
    });
  };

  const findContact = async (phone: string, signal?: AbortSignal): Promise<string | null> => {
    const res = await call(
      'searching contacts by phone',
      () =>
        client.crm.contacts.searchApi.doSearch({
          filterGroups: [
            { filters: [{ propertyName: 'phone', operator: FilterOperatorEnum.Eq, value: phone }] },
            { filters: [{ propertyName: 'mobilephone', operator: FilterOperatorEnum.Eq, value: phone }] },
          ],
          properties: ['phone', 'firstname', 'lastname'],
          sorts: ['createdate'],
          limit: 1,
          after: '0',
        }),
      signal,
    );
    return res.results[0]?.id ?? null;
  };

  return {
    kind: 'hubspot',

    async logCall(a: CrmCallActivity, signal?: AbortSignal): Promise<CrmLogResult> {
      let contactId: string | null = null;
      if (a.customerNumber) {
        contactId = await findContact(a.customerNumber, signal);
        if (!contactId) {
          const created = await call('creating the contact', () => client.crm.contacts.basicApi.create({ properties: { phone: a.customerNumber!, ...namesFrom(a.fields) }, associations: [] }), signal);
          contactId = created.id;
        }
      }
      const engagement = await call(
        'creating the call engagement',
        () =>
          client.crm.objects.calls.basicApi.create({
            properties: hubspotCallProperties(a),
            associations: contactId
              ? [{ to: { id: contactId }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: CALL_TO_CONTACT }] }]
              : [],
          }),
        signal,
      );
      return { activityId: engagement.id, contactId };
    },

    async markDoNotCall(phone: string, signal?: AbortSignal): Promise<void> {
      const contactId = await findContact(phone, signal);
      if (!contactId) return;
      try {
        await call('marking the contact do-not-call', () => client.crm.contacts.basicApi.update(contactId, { properties: { [dncProperty]: 'true' } }), signal);
      } catch (err) {
        if (err instanceof CrmError && err.kind === 'invalid' && err.status === 400)
          throw new CrmError(
            'invalid',
            `HubSpot refused to set the contact property '${dncProperty}' (400): create a single checkbox contact property with that internal name in HubSpot, or set doNotCallProperty in the connector's settings. ${err.message}`,
            400,
          );
        throw err;
      }
    },

    async testConnection(signal?: AbortSignal): Promise<ConnectionCheck> {
      try {
        await call('reading contacts', () => client.crm.contacts.basicApi.getPage(1, undefined, ['phone']), signal);
        return { ok: true, message: 'Connected to HubSpot: the private app token can read contacts.' };
      } catch (err) {
        const e = hubspotError(err, 'reading contacts');
        if (e.message.startsWith('HubSpot is unreachable')) return { ok: false, message: e.message.replace('HubSpot is unreachable', `HubSpot is unreachable at ${new URL(basePath).host}`) };
        return { ok: false, message: e.message };
      }
    },
  };
}
