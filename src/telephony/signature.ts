import twilio from 'twilio';

/**
 * Twilio request signing checks (PROTOCOLS.md "Twilio request signing"), delegated to twilio-node's own
 * `validateRequest`: X-Twilio-Signature = base64(HMAC-SHA1(authToken, url + sorted POST params)).
 */

/** The public URL Twilio called: `publicBaseUrl` (no trailing slash) + the request path and query. */
export function publicUrl(publicBaseUrl: string, originalUrl: string): string {
  return publicBaseUrl + originalUrl;
}

/** The `wss://` URL a Media Streams upgrade is signed over: the public origin with https→wss, plus the path. */
export function publicWssUrl(publicBaseUrl: string, path: string): string {
  const u = new URL(publicBaseUrl);
  return `wss://${u.host}${path}`;
}

/**
 * Validates a webhook's X-Twilio-Signature.
 * @param params the form-decoded POST body (string values).
 * @returns false for a missing or forged signature.
 */
export function isValidWebhookSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, string>): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/** Validates the `x-twilio-signature` of a Media Streams WebSocket upgrade (signed over the wss:// URL, no params). */
export function isValidStreamSignature(authToken: string, signature: string | undefined, wssUrl: string): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, wssUrl, {});
}

/** Computes the signature Twilio would send (used by the call simulator and tests). */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}
