import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** Seconds to put in `Retry-After` for a wait of `ms` (at least 1). */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Sends 429 `{ error }` with `Retry-After` (RFC 9110 §10.2.3, delay-seconds). */
export function tooManyRequests(res: Response, retryAfterMs: number, message: string): void {
  const s = retryAfterSeconds(retryAfterMs);
  res.status(429).set('Retry-After', String(s)).json({ error: `${message}; try again in ${s} s` });
}

export interface RequestRateLimitOptions {
  redis: Redis;
  /** Redis key prefix of the counters (e.g. `callcenter:rl:ip`); keys are `<prefix>:<key>`. */
  keyPrefix: string;
  /** Requests allowed per window. */
  points: number;
  /** Window (s); default 60. */
  durationS?: number;
  /** The counter a request counts against, or null to let it through uncounted. */
  key(req: Request): string | null;
  /** What the 429 says (then `; try again in N s`). */
  message: string;
}

/**
 * A fixed-window request rate limit shared by every server instance (rate-limiter-flexible `RateLimiterRedis`, one
 * atomic INCR+EXPIRE script per request). Over the limit → 429 `{ error }` with `Retry-After`. While Redis is
 * unreachable each instance falls back to an in-memory limiter of the same size (`insuranceLimiter`), so limits
 * still hold per instance instead of failing open or taking the API down.
 */
export function requestRateLimit(o: RequestRateLimitOptions): RequestHandler {
  const durationS = o.durationS ?? 60;
  const limiter = new RateLimiterRedis({
    storeClient: o.redis,
    keyPrefix: o.keyPrefix,
    points: o.points,
    duration: durationS,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: o.keyPrefix, points: o.points, duration: durationS }),
  });
  return async (req, res, next) => {
    const key = o.key(req);
    if (key === null) return next();
    try {
      await limiter.consume(key);
      next();
    } catch (err) {
      if (err instanceof RateLimiterRes) tooManyRequests(res, err.msBeforeNext, o.message);
      else next(err);
    }
  };
}
