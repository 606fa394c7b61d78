import type { RequestHandler } from 'express';
import session from 'express-session';
import RedisStore from 'connect-redis';
import type { Redis } from 'ioredis';

/** Name of the login session cookie. */
export const SESSION_COOKIE = 'cc_session';
/** Path of the cookie: browsers send it to the API only. */
export const SESSION_COOKIE_PATH = '/api';

declare module 'express-session' {
  interface SessionData {
    /** The logged-in user's id. */
    userId: string;
    /** The user's `session_version` at login; a password change or disable bumps it and ends this session. */
    sessionVersion: number;
    /** Login time (epoch ms). */
    authAt: number;
  }
}

export interface SessionOptions {
  redis: Redis;
  /** Redis key prefix of the sessions, e.g. `callcenter:sess:` (keys are `<prefix><session id>`). */
  keyPrefix: string;
  /** Signs the cookie (HMAC-SHA256, express-session / cookie-signature). */
  secret: string;
  /** Idle lifetime (ms): the cookie's Max-Age and the Redis key's TTL, renewed by every request (rolling). */
  ttlMs: number;
  /** The public origin; `https://…` makes the cookie `Secure`. */
  publicBaseUrl: string;
}

/**
 * Login sessions (express-session) stored in Redis (connect-redis 7 on the ioredis connection), so every server
 * instance accepts every session. Cookie `cc_session`: HttpOnly, SameSite=Lax, Path=/api, Max-Age = `ttlMs`,
 * `Secure` when `publicBaseUrl` is https. Nothing is stored until login (`saveUninitialized: false`), the session
 * id is regenerated at login (see login route) and the session is destroyed at logout. Rolling: each response renews
 * the cookie's Max-Age and the key's TTL, so a session ends after `ttlMs` without requests.
 *
 * On `Secure`: express-session only sends a Secure cookie on a request it believes is https (`req.secure`). Behind
 * a TLS-terminating proxy the last hop is plain http and `req.secure` depends on `TRUST_PROXY_HOPS` and
 * X-Forwarded-Proto; a wrong value would silently drop the cookie and break login. When the public origin is https
 * the browser's connection is https by definition, so this middleware marks the request secure for express-session
 * (an own `secure` property on the request) instead of guessing from the last hop.
 */
export function createSessionMiddleware(o: SessionOptions): { middleware: RequestHandler[]; store: RedisStore } {
  const https = o.publicBaseUrl.startsWith('https://');
  const store = new RedisStore({ client: o.redis, prefix: o.keyPrefix });
  const sess = session({
    name: SESSION_COOKIE,
    secret: o.secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { httpOnly: true, sameSite: 'lax', secure: https, path: SESSION_COOKIE_PATH, maxAge: o.ttlMs },
  });
  const markSecure: RequestHandler = (req, _res, next) => {
    if (https) Object.defineProperty(req, 'secure', { value: true, configurable: true });
    next();
  };
  return { middleware: [markSecure, sess], store };
}
