import type { RequestHandler } from 'express';
import { isValidWebhookSignature, publicUrl } from '../../telephony/signature';

/**
 * Rejects (403) any request whose `X-Twilio-Signature` does not validate over PUBLIC_BASE_URL + the request's
 * path and query (the URL Twilio called, not the one this process sees behind a proxy) and the form body.
 * Must run after `express.urlencoded()`.
 */
export function requireTwilioSignature(authToken: string, publicBaseUrl: string): RequestHandler {
  return (req, res, next) => {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) params[k] = Array.isArray(v) ? String(v[0]) : String(v);
    const url = publicUrl(publicBaseUrl, req.originalUrl);
    if (!isValidWebhookSignature(authToken, req.header('x-twilio-signature'), url, params)) {
      req.log?.warn({ path: req.path }, 'twilio webhook signature rejected');
      res.status(403).type('text/plain').send('Invalid Twilio signature');
      return;
    }
    req.body = params;
    next();
  };
}
