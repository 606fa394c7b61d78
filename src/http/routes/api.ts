import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { Config } from '../../config';
import { mountRoutes, type ApiRoute } from '../api/route';
import { openApiDocument } from '../api/openapi';
import { docsRouter, docsRoutes } from '../api/docs';
import { authRoutes } from '../api/auth';
import { userRoutes } from '../api/users';
import { apiKeyRoutes } from '../api/api-keys';
import { Accounts } from '../auth/accounts';
import { authenticate, isSessionAuthenticated } from '../auth/authenticate';
import { csrfGuard } from '../auth/csrf';
import { LoginLimiter } from '../auth/login-limiter';
import { mountPublicRoute } from '../auth/public-route';
import { requestRateLimit } from '../auth/rate-limit';
import { createSessionMiddleware } from '../auth/session';

/** `info` of the OpenAPI document. */
export const OPENAPI_INFO = {
  title: 'Call center API',
  version: '1.0.0',
  description: 'Manage agents, phone numbers, calls, users and API keys. Authenticate with `Authorization: Bearer <API key>` or the session cookie from `POST /api/auth/login`.',
};

export interface ApiRouterDeps {
  db: Knex;
  /**
   * Redis for sessions, rate-limit and login-failure counters. Give it an offline queue (commands issued while it
   * connects wait instead of failing), e.g. `new Redis(url, { maxRetriesPerRequest: 1 })`.
   */
  redis: Redis;
  /** Redis key prefix, e.g. `callcenter`: keys `<prefix>:sess:<id>`, `<prefix>:rl:ip:<ip>`, `<prefix>:rl:principal:…`, `<prefix>:login:…`. */
  redisPrefix: string;
  config: Pick<Config, 'publicBaseUrl' | 'apiKey' | 'auth'>;
  /** Route-table routes of other modules (agents, phone numbers, calls, audit, docs…), mounted after the account routes. */
  routes?: ReadonlyArray<ApiRoute<any, any, any>>;
  /** Routers outside the route table (e.g. knowledge uploads), mounted last, behind the same authentication; they check roles with `requireRole`. */
  routers?: Router[];
}

/**
 * The API router; `routes` is the whole mounted route table (the account routes + `deps.routes`), for the OpenAPI
 * document; `authChain` the session and authentication middleware of every `/api` request (sets `req.principal` or
 * answers 401), for WebSocket upgrades that authenticate the same way (see src/http/auth/upgrade-auth.ts).
 */
export type ApiRouter = Router & { readonly routes: ReadonlyArray<ApiRoute<any, any, any>>; readonly authChain: ReadonlyArray<RequestHandler> };

/**
 * The management API under `/api` (an express Router to `app.use`), in this order for every `/api` request:
 *
 * 1. `Cache-Control: no-store` on every answer;
 * 2. per-IP rate limit (`auth.ipRateLimitPerMin`, before authentication: bounds key and password guessing) → 429;
 * 3. the session (express-session + Redis, cookie `cc_session`);
 * 4. `POST /api/auth/login` — the one route reachable without a principal (it has its own failed-login limits);
 * 5. authentication (bearer API key, bootstrap `API_KEY`, or the session) → 401;
 * 6. CSRF: a cookie-authenticated non-GET must come from an allowed `Origin` → 403;
 * 7. per-principal rate limit (`auth.apiRateLimitPerMin` per user / key) → 429 with `Retry-After`;
 * 8. the route table: `POST /api/auth/logout`, `GET /api/me`, `/api/users`, `/api/api-keys`, then `deps.routes`
 *    (role check 403, validation 400, handler);
 * 9. `deps.routers`.
 * Rate limits and sessions live in Redis, so every instance shares them.
 */
export function createApiRouter(d: ApiRouterDeps): ApiRouter {
  const { auth } = d.config;
  const accounts = new Accounts(d.db);
  const session = createSessionMiddleware({ redis: d.redis, keyPrefix: `${d.redisPrefix}:sess:`, secret: auth.sessionSecret, ttlMs: auth.sessionTtlMs, publicBaseUrl: d.config.publicBaseUrl });
  const limiter = new LoginLimiter(d.redis, `${d.redisPrefix}:login`, auth.login);
  const [login, ...accountRoutes] = authRoutes({ users: accounts.users, limiter, publicBaseUrl: d.config.publicBaseUrl });
  let spec: object | null = null;
  const routes: ApiRoute<any, any, any>[] = [login, ...accountRoutes, ...userRoutes(accounts), ...apiKeyRoutes(accounts), ...(d.routes ?? [])];
  // The document describes every route, its own included; built on first request, then served from memory.
  routes.push(...docsRoutes(() => (spec ??= openApiDocument(routes, OPENAPI_INFO))));
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };
  const r = Router();
  r.use(
    '/api',
    noStore,
    requestRateLimit({ redis: d.redis, keyPrefix: `${d.redisPrefix}:rl:ip`, points: auth.ipRateLimitPerMin, key: (req) => req.ip ?? 'unknown', message: 'too many requests from your address' }),
    ...session.middleware,
  );
  r.use(mountPublicRoute(login));
  const authn = authenticate({ users: accounts.users, apiKeys: accounts.apiKeys, bootstrapApiKey: d.config.apiKey });
  r.use(
    '/api',
    authn,
    csrfGuard({ publicBaseUrl: d.config.publicBaseUrl, applies: isSessionAuthenticated }),
    requestRateLimit({
      redis: d.redis,
      keyPrefix: `${d.redisPrefix}:rl:principal`,
      points: auth.apiRateLimitPerMin,
      key: (req) => (req.principal ? `${req.principal.kind}:${req.principal.id}` : null),
      message: 'too many requests for this user or key',
    }),
  );
  r.use(mountRoutes(routes.slice(1)));
  r.use(docsRouter({ title: OPENAPI_INFO.title }));
  for (const extra of d.routers ?? []) r.use(extra);
  return Object.assign(r, { routes, authChain: [...session.middleware, authn] });
}
