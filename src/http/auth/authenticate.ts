import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKeysRepo } from '../../db/api-keys';
import type { UsersRepo } from '../../db/users';
import { hashApiKey, looksLikeApiKey } from './api-key-token';
import type { Principal } from './principal';

/** The principal of the bootstrap `API_KEY` (always admin). */
export const BOOTSTRAP_PRINCIPAL: Principal = Object.freeze({ kind: 'bootstrap', id: 'bootstrap', role: 'admin', label: 'API_KEY' });

/** `last_used_at` of a key is written at most this often (ms). */
export const LAST_USED_INTERVAL_MS = 60_000;

export interface AuthenticateDeps {
  users: UsersRepo;
  apiKeys: ApiKeysRepo;
  /** The `API_KEY` env var: a bearer token that authenticates as {@link BOOTSTRAP_PRINCIPAL}. */
  bootstrapApiKey: string;
  /** Clock for the `last_used_at` throttle (epoch ms); default Date.now. */
  now?: () => number;
}

const sessionAuthenticated = new WeakSet<Request>();

/** True when `req.principal` came from the session cookie (such requests need the CSRF check; bearer ones do not). */
export function isSessionAuthenticated(req: Request): boolean {
  return sessionAuthenticated.has(req);
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function unauthorized(res: Response, error: string, invalidToken = false): void {
  res
    .status(401)
    .set('WWW-Authenticate', invalidToken ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"')
    .json({ error });
}

/**
 * Sets `req.principal` or answers 401 `{ error }` with `WWW-Authenticate: Bearer realm="api"` (RFC 6750 §3;
 * `error="invalid_token"` when a token was presented). Sources, in order:
 *
 * 1. `Authorization: Bearer <token>` (scheme case-insensitive). A `cc_…` token is looked up by its SHA-256 among
 *    keys that are not revoked (a revoked key fails at once: no cache) → `api_key` principal with the key's role;
 *    `last_used_at` is written at most once a minute per key. Otherwise the token is compared with the bootstrap
 *    `API_KEY` (SHA-256 digests with `timingSafeEqual`, so length and content do not show in timing) → `bootstrap`
 *    (admin). Any other Authorization header → 401; the session cookie is then not consulted.
 * 2. The `cc_session` cookie (express-session must run first): the user is read from the database on each request
 *    (role changes apply at once); a deleted or disabled user, or one whose `session_version` moved on (password
 *    changed, disabled) → the session is destroyed and 401.
 *
 * Tokens, keys and session ids are never logged or echoed.
 */
export function authenticate(d: AuthenticateDeps): RequestHandler {
  const bootstrap = digest(d.bootstrapApiKey);
  const now = d.now ?? Date.now;
  const lastTouched = new Map<string, number>();

  const touch = async (req: Request, keyId: string): Promise<void> => {
    const t = now();
    if ((lastTouched.get(keyId) ?? -Infinity) > t - LAST_USED_INTERVAL_MS) return;
    lastTouched.set(keyId, t);
    if (lastTouched.size > 10_000) lastTouched.clear(); // bounded; the database throttles too
    await d.apiKeys.touchLastUsed(keyId, LAST_USED_INTERVAL_MS).catch((err) => req.log?.warn({ err: err?.message, apiKeyId: keyId }, 'could not record API key use'));
  };

  return async (req, res, next) => {
    try {
      const header = req.get('authorization');
      if (header !== undefined) {
        const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
        if (!m) return unauthorized(res, 'unsupported Authorization scheme: send Authorization: Bearer <API key>');
        const token = m[1];
        if (looksLikeApiKey(token)) {
          const key = await d.apiKeys.findActiveByHash(hashApiKey(token));
          if (key) {
            req.principal = { kind: 'api_key', id: key.id, role: key.role, label: key.name };
            await touch(req, key.id);
            return next();
          }
        }
        if (timingSafeEqual(digest(token), bootstrap)) {
          req.principal = BOOTSTRAP_PRINCIPAL;
          return next();
        }
        return unauthorized(res, 'invalid or revoked API key', true);
      }
      const s = req.session;
      if (s?.userId) {
        const user = await d.users.get(s.userId);
        if (user && !user.disabledAt && user.sessionVersion === s.sessionVersion) {
          req.principal = { kind: 'user', id: user.id, role: user.role, label: user.email };
          sessionAuthenticated.add(req);
          return next();
        }
        await new Promise<void>((resolve) => s.destroy(() => resolve()));
        return unauthorized(res, 'your session has ended (account disabled or password changed); log in again');
      }
      unauthorized(res, 'authentication required: log in (POST /api/auth/login) or send Authorization: Bearer <API key>');
    } catch (err) {
      next(err);
    }
  };
}
