import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer-token authentication for the REST API (RFC 6750): requires `Authorization: Bearer <apiKey>`.
 * The presented token and the key are compared as SHA-256 digests with `crypto.timingSafeEqual`, so the
 * comparison takes the same time whatever the token's length or content. Otherwise responds
 * `401 {"error": "..."}` with `WWW-Authenticate: Bearer realm="api"` (plus `error="invalid_token"` when a token
 * was presented). The key is never logged.
 * @throws Error at construction when `apiKey` is empty.
 */
export function apiAuth(apiKey: string): RequestHandler {
  if (!apiKey) throw new Error('apiAuth: apiKey must not be empty');
  const expected = digest(apiKey);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (m && timingSafeEqual(digest(m[1]), expected)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', m ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"')
      .json({ error: m ? 'invalid API key' : 'missing bearer token: send Authorization: Bearer <API_KEY>' });
  };
}
