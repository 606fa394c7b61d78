import { createHmac } from 'node:crypto';
import type { Router } from 'express';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import type { ApiRoute } from '../../src/http/api/route';
import { Accounts } from '../../src/http/auth/accounts';
import { createApiRouter, type ApiRouter } from '../../src/http/routes/api';
import type { AccountRole } from '../../src/db/users';
import { listen } from './http';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The bootstrap API_KEY of test API servers. */
export const TEST_API_KEY = 'test-bootstrap-api-key-0123456789';
/** SESSION_SECRET of test API servers (tests sign planted session cookies with it). */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789-abcdef';
/** METRICS_TOKEN of test servers. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';

export interface TestApi {
  base: string;
  config: Readonly<Config>;
  redis: Redis;
  /** Redis key prefix of this server (unique per call). */
  prefix: string;
  accounts: Accounts;
  api: ApiRouter;
  close(): Promise<void>;
}

let serial = 0;

/**
 * Serves the assembled API (`createApiRouter`, real authentication, sessions and rate limits in Redis under a
 * unique key prefix) in the express app on an ephemeral port. `env` overrides the config (e.g.
 * `PUBLIC_BASE_URL`, `SESSION_TTL_MS`, `LOGIN_MAX_FAILURES_PER_ACCOUNT_IP`); `trustProxyHops: 1` lets a test set
 * the client IP with `X-Forwarded-For`. `close()` deletes this server's Redis keys.
 */
export async function startTestApi(o: {
  db: Knex;
  env?: Record<string, string>;
  routes?: ReadonlyArray<ApiRoute<any, any, any>>;
  routers?: Router[];
  extraRouters?: Router[];
  trustProxyHops?: number;
}): Promise<TestApi> {
  const config = loadConfig({ NODE_ENV: 'test', API_KEY: TEST_API_KEY, SESSION_SECRET: TEST_SESSION_SECRET, METRICS_TOKEN: TEST_METRICS_TOKEN, PUBLIC_BASE_URL: 'http://dashboard.test', ...o.env });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test-auth-${process.pid}-${Date.now().toString(36)}-${serial++}`;
  const api = createApiRouter({ db: o.db, redis, redisPrefix: prefix, config, routes: o.routes, routers: o.routers });
  const app = createApp({ logger: pino({ level: 'silent' }), routers: [api, ...(o.extraRouters ?? [])], trustProxyHops: o.trustProxyHops });
  const s = await listen(app);
  return {
    base: s.base,
    config,
    redis,
    prefix,
    accounts: new Accounts(o.db),
    api,
    close: async () => {
      await s.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(keys);
      redis.disconnect();
    },
  };
}

/** A unique email for a test user. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@test.example`;
}

/** A password that passes the policy. */
export const GOOD_PASSWORD = 'correct horse battery staple';

/** Creates a user directly (audit actor: the test). */
export async function createTestUser(accounts: Accounts, role: AccountRole, tag: string = role): Promise<{ id: string; email: string; password: string }> {
  const email = uniqueEmail(tag);
  const u = await accounts.createUser({ email, password: GOOD_PASSWORD, role }, { kind: 'bootstrap', id: 'test', label: 'test' });
  return { id: u.id, email, password: GOOD_PASSWORD };
}

/** The `cc_session=…` pair of a response's Set-Cookie (for a Cookie header), or null. */
export function sessionCookie(res: Response): string | null {
  const c = res.headers.getSetCookie().find((h) => h.startsWith('cc_session='));
  return c ? c.split(';')[0] : null;
}

/** The session id inside a `cc_session=s%3A<id>.<signature>` cookie pair. */
export function sessionIdOf(cookie: string): string {
  const v = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return v.slice(2, v.lastIndexOf('.'));
}

/** A `cc_session` cookie pair for a session id, signed like express-session (cookie-signature: HMAC-SHA256, base64 without padding). */
export function signedSessionCookie(sid: string, secret = TEST_SESSION_SECRET): string {
  const sig = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `cc_session=${encodeURIComponent(`s:${sid}.${sig}`)}`;
}

/** POST /api/auth/login; returns the response and its session cookie pair. */
export async function login(base: string, email: string, password: string, headers: Record<string, string> = {}): Promise<{ res: Response; cookie: string | null }> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email, password }) });
  return { res, cookie: sessionCookie(res) };
}
