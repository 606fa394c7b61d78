import { Router, type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Config } from '../../config';
import type { CallsRepo } from '../../db/calls';
import { callSummary, decodeCallCursor, encodeCallCursor } from '../call-shapes';
export type { CallSummary } from '../call-shapes';
import { publicAgent, type AgentsRepo } from '../../db/agents';
import { zodIssues } from '../zod-issues';
import { requireRole } from '../auth/require-role';
import { mountRoutes, type ApiRoute } from '../api/route';
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

/**
 * Query of `GET /api/calls`: `limit` 1..100 (default 20); `before` an ISO 8601 time (only calls that started
 * earlier); `cursor` the `nextCursor` of the previous page.
 */
export const listCallsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.iso.datetime({ offset: true }).optional(),
  cursor: z
    .string()
    .max(200)
    .transform((t, ctx) => decodeCallCursor(t) ?? (ctx.addIssue({ code: 'custom', message: 'cursor is not a nextCursor value' }), z.NEVER))
    .optional(),
});

const callSidParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'callSid must be 1-64 letters, digits, _ or -');


/**
 * The read routes that predate the route table, mounted behind the API's authentication (any role may read):
 *
 * - `GET /api/calls?limit=&before=&cursor=` → `{ calls: CallSummary[], nextCursor: string | null }`, newest first.
 *   `nextCursor` is an opaque keyset position when more calls exist (pass it as `cursor` for the next page), else null.
 *   400 `{error}` on a bad query.
 * - `GET /api/calls/:callSid` → exactly `CallsRepo.detail()` (`CallDetail`); 404 `{error}` when unknown.
 * - `GET /api/agents` → `{ agents: Agent[] }` (tool secrets removed, see `publicAgent`).
 *
 * Pass it to {@link createApiRouter} in `routers`. Errors thrown by the repositories reach the app's error handler.
 */
export function createLegacyReadRouter(d: { calls: CallsRepo; agents: AgentsRepo }): Router {
  const r = Router();
  r.use(['/api/calls', '/api/agents'], requireRole('viewer'));

  r.get('/api/calls', async (req, res) => {
    const q = listCallsQuery.safeParse(req.query);
    if (!q.success) {
      res.status(400).json({ error: zodIssues(q.error, 'query') });
      return;
    }
    // One extra row tells whether another page exists.
    const rows = await d.calls.list({ limit: q.data.limit + 1, before: q.data.before, after: q.data.cursor });
    const page = rows.slice(0, q.data.limit);
    res.json({ calls: page.map(callSummary), nextCursor: rows.length > q.data.limit ? encodeCallCursor(page[page.length - 1].cursor) : null });
  });

  r.get('/api/calls/:callSid', async (req, res) => {
    const sid = callSidParam.safeParse(req.params.callSid);
    if (!sid.success) {
      res.status(400).json({ error: sid.error.issues[0].message });
      return;
    }
    const detail = await d.calls.detail(sid.data);
    if (!detail) {
      res.status(404).json({ error: `call ${sid.data} not found` });
      return;
    }
    res.json(detail);
  });

  r.get('/api/agents', async (_req, res) => {
    res.json({ agents: (await d.agents.list()).map(publicAgent) });
  });

  return r;
}

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

/** The API router; `routes` is the whole mounted route table (the account routes + `deps.routes`), for the OpenAPI document. */
export type ApiRouter = Router & { readonly routes: ReadonlyArray<ApiRoute<any, any, any>> };

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
  const routes = [login, ...accountRoutes, ...userRoutes(accounts), ...apiKeyRoutes(accounts), ...(d.routes ?? [])];
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
  r.use(
    '/api',
    authenticate({ users: accounts.users, apiKeys: accounts.apiKeys, bootstrapApiKey: d.config.apiKey }),
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
  for (const extra of d.routers ?? []) r.use(extra);
  return Object.assign(r, { routes });
}
