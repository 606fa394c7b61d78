import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Signature checks of inbound trigger requests (issue 13 §6). Pure: the clock is injected (ms since the epoch).
 * Both reject a timestamp more than {@link INBOUND_TOLERANCE_MS} (5 min) away from now (replay protection) and compare
 * signatures in constant time. Each returns `null` when valid, else a short reason safe to send back (no secret).
 */

export const INBOUND_TOLERANCE_MS = 5 * 60 * 1000;

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * HubSpot v3 (developers.hubspot.com "Validating requests", PROTOCOLS.md "HubSpot"): `X-HubSpot-Signature-v3` =
 * base64(HMAC-SHA256(app client secret, method + full URI + raw body + `X-HubSpot-Request-Timestamp`)), timestamp
 * in ms; older than 5 minutes → rejected. `uri` must be the URI HubSpot called (public base URL + original URL,
 * query included), not the one a proxy forwarded.
 */
export function verifyHubSpotV3(
  input: { secret: string; method: string; uri: string; rawBody: Buffer; signature: string | undefined; timestamp: string | undefined },
  nowMs: number,
): string | null {
  if (!input.signature || !input.timestamp) return 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp';
  const ts = Number(input.timestamp);
  if (!Number.isFinite(ts)) return 'X-HubSpot-Request-Timestamp is not a number';
  if (Math.abs(nowMs - ts) > INBOUND_TOLERANCE_MS) return 'timestamp outside the 5 minute tolerance';
  const expected = createHmac('sha256', input.secret)
    .update(Buffer.concat([Buffer.from(`${input.method.toUpperCase()}${input.uri}`, 'utf8'), input.rawBody, Buffer.from(input.timestamp, 'utf8')]))
    .digest('base64');
  return safeEqual(expected, input.signature) ? null : 'signature does not match';
}

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature` holds space-separated `v1,<base64>` signatures of
 * `id.timestamp.body` (HMAC-SHA256, key = base64 after `whsec_`); the expected one is computed with the
 * `standardwebhooks` package's `sign`, the timestamp (unix s) checked against the injected clock.
 */
export function verifyStandardWebhook(
  input: { secret: string; rawBody: Buffer; id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  nowMs: number,
): string | null {
  if (!input.id || !input.timestamp || !input.signature) return 'missing webhook-id, webhook-timestamp or webhook-signature';
  const ts = Number(input.timestamp);
  if (!/^\d+$/.test(input.timestamp) || !Number.isFinite(ts)) return 'webhook-timestamp is not unix seconds';
  if (Math.abs(nowMs - ts * 1000) > INBOUND_TOLERANCE_MS) return 'timestamp outside the 5 minute tolerance';
  const expected = new Webhook(input.secret).sign(input.id, new Date(ts * 1000), input.rawBody);
  const wanted = expected.split(',')[1];
  const ok = input.signature.split(' ').some((s) => s.startsWith('v1,') && safeEqual(s.slice(3), wanted));
  return ok ? null : 'signature does not match';
}
