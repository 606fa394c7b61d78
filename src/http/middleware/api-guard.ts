import { Router, type Request } from 'express';
import rateLimit from 'express-rate-limit';
import { apiAuth } from './api-auth';

/** Requests that already passed an {@link apiGuard} (several routers under `/api` share one check per request). */
const guarded = new WeakSet<Request>();

export interface ApiGuardOptions {
  /** The bearer API key ({@link apiAuth}). */
  apiKey: string;
  /** Requests per minute per client (express-rate-limit, keyed by `req.ip`). Default 600. */
  requestsPerMinute?: number;
}

/**
 * The REST API's front door, as one middleware (an express Router) for every `/api` router:
 * 1. a per-client rate limit (429 `{error}` with `RateLimit`/`RateLimit-Policy` draft-8 headers) in front of
 *    authentication, so a leaked or guessed key cannot be brute-forced quickly;
 * 2. {@link apiAuth} (`Authorization: Bearer <apiKey>`, else 401);
 * 3. `Cache-Control: no-store` on the response.
 * A request that already passed a guard (an earlier `/api` router's) skips the rest of this one, so it is counted
 * and authenticated once however many API routers it traverses.
 * @throws Error at construction when `apiKey` is empty (from apiAuth).
 */
export function apiGuard(o: ApiGuardOptions): Router {
  const limiter = rateLimit({ windowMs: 60_000, limit: o.requestsPerMinute ?? 600, standardHeaders: 'draft-8', legacyHeaders: false, message: { error: 'too many requests' } });
  const g = Router();
  g.use(
    (req, _res, next) => next(guarded.has(req) ? 'router' : undefined),
    limiter,
    apiAuth(o.apiKey),
    (req, res, next) => {
      guarded.add(req);
      res.set('Cache-Control', 'no-store');
      next();
    },
  );
  return g;
}
