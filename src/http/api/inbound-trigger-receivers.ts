import { z } from 'zod';
import 'zod-openapi';
import { INBOUND_TRIGGER_MAX_BYTES } from '../inbound-triggers';
import { docOnlyRoute, errorSchema, type ApiRoute } from './route';

/**
 * The two inbound trigger receivers (issue 13 §6) in the OpenAPI document. They are served by
 * src/http/inbound-triggers.ts (raw body, no session, signature-verified), so they are documented only
 * ({@link docOnlyRoute}); what is written here follows that router's answers exactly.
 */

const HUBSPOT_SCHEME = {
  hubspotSignatureV3: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'X-HubSpot-Signature-v3',
    description:
      "HubSpot's v3 request signature: base64 HMAC-SHA256, keyed by the trigger's secret (shown once when the trigger is created), of `POST` + `PUBLIC_BASE_URL` + the path and query HubSpot called (so `?trigger=` is signed) + the raw body + `X-HubSpot-Request-Timestamp`. Not a session or API key.",
  },
};
const STANDARD_SCHEME = {
  standardWebhooksSignature: {
    type: 'apiKey' as const,
    in: 'header' as const,
    name: 'webhook-signature',
    description:
      'A Standard Webhooks signature (https://www.standardwebhooks.com): space-separated `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed by the trigger\'s `whsec_…` secret. Any one valid signature is accepted. Not a session or API key.',
  },
};

const okSchema = z
  .object({
    ok: z.literal(true),
    action: z.enum(['enroll', 'call']),
    campaignId: z.string().optional().meta({ description: '`enroll`: the campaign the contact was imported into.' }),
    phone: z.string().optional().meta({ description: '`enroll`: the contact\'s number, E.164.' }),
    suppressed: z.boolean().optional().meta({ description: '`enroll`: true when the number is on the DNC list (stored suppressed, never dialed).' }),
    attemptId: z.string().optional().meta({ description: '`call`: the call attempt.' }),
    callSid: z.string().optional().meta({ description: '`call`: the Twilio CallSid.' }),
    status: z.string().optional().meta({ description: '`call`: the attempt status.' }),
    duplicate: z.literal(true).optional().meta({ description: 'A repeated delivery (same dedupe key within 24 h): the first answer, replayed; nothing runs again.' }),
  })
  .meta({ id: 'InboundTriggerResult' });
const failSchema = z
  .object({ error: z.string(), duplicate: z.literal(true).optional().meta({ description: 'A repeated delivery whose first answer was this error.' }) })
  .meta({ id: 'InboundTriggerError' });

const anyJson = z.unknown().meta({ description: 'The sender\'s JSON payload (any shape); the trigger\'s `mapping` says where the phone number, name and variables are.' });
const body = { 'application/json': { schema: anyJson, description: `Raw JSON body, at most ${INBOUND_TRIGGER_MAX_BYTES} bytes (read raw: the signature covers the exact bytes).` } };
const common = (dedupe: string) => ({
  200: { description: `Verified and run (or a duplicate of an earlier delivery, replayed with \`duplicate: true\`; ${dedupe}).`, schema: okSchema },
  404: { description: 'Unknown or disabled trigger, or a trigger of the other kind.', schema: errorSchema },
  409: { description: 'The campaign is gone or not accepting contacts (not draft, running or paused), the call was refused (archived agent, DNC-listed number, the agent has no number to call from, dialer refused), or the same delivery is still being processed.', schema: failSchema },
  413: { description: `Body larger than ${INBOUND_TRIGGER_MAX_BYTES} bytes.`, schema: errorSchema },
  422: { description: 'Body not JSON, or no valid phone number at the mapping\'s `phone` path, or the contact was rejected.', schema: failSchema },
  502: { description: 'A `call` trigger: Twilio did not place the call (the reason is in `error`); the same delivery retried answers the same.', schema: errorSchema },
  503: { description: 'The server has no WEBHOOK_SECRETS_KEY (trigger secrets cannot be opened), or a `call` trigger on a server without outbound dialing.', schema: errorSchema },
});
const DESCRIPTION_TAIL =
  ' Then the trigger\'s action runs: `enroll` imports the mapped contact into its campaign, `call` places a call with its agent (idempotent per delivery). A failure that is not the sender\'s fault (5xx) releases the dedupe key, so the sender\'s retry runs the action. Rate limit: 120 requests per minute per client IP.';

/** The documented-only routes of `POST /integrations/hubspot/webhook` and `POST /integrations/webhooks/{triggerId}`. */
export function inboundTriggerReceiverRoutes(): ApiRoute<any, any, any>[] {
  return [
    docOnlyRoute({
      method: 'post',
      path: '/integrations/hubspot/webhook',
      role: 'viewer',
      tag: 'integrations',
      summary: 'HubSpot workflow webhook receiver (X-HubSpot-Signature-v3)',
      description:
        'The URL for a HubSpot workflow "Send a webhook" action of a `hubspot` inbound trigger (its `receiverPath`). Authenticated by the v3 signature, not a session: 401 when `X-HubSpot-Signature-v3` is missing or wrong or `X-HubSpot-Request-Timestamp` is missing or more than 5 minutes off. Deduplicated for 24 h by the payload\'s `eventId` (first element of an array) when present, else by the SHA-256 of the body.' +
        DESCRIPTION_TAIL,
      query: z.object({ trigger: z.uuid().meta({ description: 'The inbound trigger\'s id (kind `hubspot`). Missing or unknown → 404.' }) }),
      headers: z.object({ 'X-HubSpot-Request-Timestamp': z.string().meta({ description: 'Milliseconds since the epoch when HubSpot sent the request; refused when more than 5 minutes off.' }) }),
      otherBodies: body,
      signature: { schemes: HUBSPOT_SCHEME, unauthorized: 'Missing or invalid `X-HubSpot-Signature-v3`, or a missing or stale (over 5 min) `X-HubSpot-Request-Timestamp`; `error` says which.' },
      responses: common('dedupe key: `eventId`, else the body\'s SHA-256'),
    }),
    docOnlyRoute({
      method: 'post',
      path: '/integrations/webhooks/:triggerId',
      role: 'viewer',
      tag: 'integrations',
      summary: 'Generic inbound webhook receiver (Standard Webhooks signature)',
      description:
        'The URL for any Standard Webhooks sender of a `standard` inbound trigger (its `receiverPath`). Authenticated by the signature, not a session: 401 when `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing, the timestamp is more than 5 minutes off, or no signature matches. Deduplicated for 24 h by `webhook-id`.' +
        DESCRIPTION_TAIL,
      params: z.object({ triggerId: z.string().meta({ description: 'The inbound trigger\'s id (kind `standard`). Unknown → 404.' }) }),
      headers: z.object({
        'webhook-id': z.string().meta({ description: 'Unique message id (the dedupe key).' }),
        'webhook-timestamp': z.string().meta({ description: 'Seconds since the epoch; refused when more than 5 minutes off.' }),
      }),
      otherBodies: body,
      signature: { schemes: STANDARD_SCHEME, unauthorized: 'Missing `webhook-id` / `webhook-timestamp` / `webhook-signature`, a timestamp more than 5 minutes off, or no valid signature; `error` says which.' },
      responses: common('dedupe key: `webhook-id`'),
    }),
  ];
}
