import { Router } from 'express';
import type { Registry } from 'prom-client';
import { apiGuard } from '../middleware/api-guard';

/** Path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics`: the registry's metrics in the Prometheus text exposition format (`Content-Type` is
 * `registry.contentType`, i.e. `text/plain; version=0.0.4; charset=utf-8`), behind the same front door as `/api`
 * ({@link apiGuard}: per-client rate limit, default 120 requests/min — a scrape every 15 s needs 4 — then the bearer
 * API key, 401 JSON without a valid `Authorization: Bearer <apiKey>`; `Cache-Control: no-store`).
 *
 * Scraping has a side effect worth knowing: prom-client's default
 * `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` gauges describe the event-loop delay histogram
 * since the PREVIOUS scrape (it is reset on each collect), and each sample includes the 10 ms sampling interval
 * (`eventLoopMonitoringPrecision` in src/metrics/metrics.ts), so an idle loop reads ≈ 0.010 s.
 * @throws Error at construction when `apiKey` is empty (from apiAuth).
 */
export function createMetricsRouter(d: { registry: Registry; apiKey: string; requestsPerMinute?: number }): Router {
  const r = Router();
  r.get(METRICS_PATH, apiGuard({ apiKey: d.apiKey, requestsPerMinute: d.requestsPerMinute ?? 120 }), async (_req, res) => {
    res.set('Content-Type', d.registry.contentType).send(await d.registry.metrics());
  });
  return r;
}
