import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import rateLimit from 'express-rate-limit';
import type { Registry } from 'prom-client';

/** Path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * `Authorization: Bearer <token>` against one fixed token (RFC 6750; digests compared with `timingSafeEqual`, so
 * timing reveals nothing about the token), else 401 `{ error }` with `WWW-Authenticate: Bearer realm="metrics"`.
 */
function bearerToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (m && timingSafeEqual(digest(m[1]), expected)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', m ? 'Bearer realm="metrics", error="invalid_token"' : 'Bearer realm="metrics"')
      .json({ error: m ? 'invalid metrics token' : 'missing bearer token: send Authorization: Bearer <METRICS_TOKEN>' });
  };
}

/**
 * `GET /metrics`: the registry's metrics in the Prometheus text exposition format (`Content-Type` is
 * `registry.contentType`, i.e. `text/plain; version=0.0.4; charset=utf-8`), behind its own bearer token
 * (`METRICS_TOKEN`), deliberately not an API key: a scraper's credential should not be able to read transcripts,
 * and API keys should not be able to read metrics. Order: a per-client rate limit (default 120 requests/min — a
 * scrape every 15 s needs 4 — in memory, per instance, in front of the token check) → the token (401 JSON without
 * it) → `Cache-Control: no-store`. The server does not mount this router when the token is null (production
 * without METRICS_TOKEN), so `/metrics` is then a 404.
 *
 * Scraping has a side effect worth knowing: prom-client's default
 * `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` gauges describe the event-loop delay histogram
 * since the PREVIOUS scrape (it is reset on each collect), and each sample includes the 10 ms sampling interval
 * (`eventLoopMonitoringPrecision` in src/metrics/metrics.ts), so an idle loop reads ≈ 0.010 s.
 * @throws Error at construction when `token` is empty.
 */
export function createMetricsRouter(d: { registry: Registry; token: string; requestsPerMinute?: number }): Router {
  if (!d.token) throw new Error('createMetricsRouter: token must not be empty');
  const limiter = rateLimit({ windowMs: 60_000, limit: d.requestsPerMinute ?? 120, standardHeaders: 'draft-8', legacyHeaders: false, message: { error: 'too many requests' } });
  const r = Router();
  r.get(METRICS_PATH, limiter, bearerToken(d.token), async (_req, res) => {
    res.set('Cache-Control', 'no-store').set('Content-Type', d.registry.contentType).send(await d.registry.metrics());
  });
  return r;
}
