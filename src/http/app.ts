import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { runReadinessChecks, type ReadinessCheck } from './readiness';

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}

/** What `GET /readyz` checks: dependency checks, and whether the process drains (then it is never ready). */
export interface ReadinessOptions {
  checks: Record<string, ReadinessCheck>;
  draining(): boolean;
  /** Per-check timeout (ms); default {@link READINESS_TIMEOUT_MS} (1000). */
  timeoutMs?: number;
}

/**
 * The express app: security headers, a per-request child logger, `GET /healthz` (no auth, liveness: the process
 * answers), `GET /readyz` (no auth, readiness, when `readiness` is given), the given routers (Twilio webhooks are
 * signature-checked, the REST API is bearer-authenticated inside their routers), JSON 404s and an error handler
 * that never leaks internals.
 *
 * `GET /readyz`: 200 `{ status: 'ready', checks }` when every check passed; 503 `{ status: 'not ready', checks,
 * failed: ['redis', …] }` when one failed or timed out (each check is bounded, so a hung dependency cannot hang the
 * probe); 503 `{ status: 'draining' }` at once while the process drains. `checks` maps a name to
 * `{ ok, ms, error?: 'timeout' | 'failed' }` (reasons are logged, not returned).
 */
export function createApp(d: { logger: Logger; routers: Router[]; trustProxyHops?: number; readiness?: ReadinessOptions }): Express {
  const app = express();
  app.disable('x-powered-by');
  // Only trust X-Forwarded-For from configured proxies, or a client could rotate it past the rate limiter.
  app.set('trust proxy', d.trustProxyHops ?? 0);
  app.use(helmet());
  app.use((req, _res, next) => {
    req.log = d.logger.child({ method: req.method, path: req.path });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const readiness = d.readiness;
  if (readiness) {
    app.get('/readyz', async (req, res) => {
      res.set('cache-control', 'no-store');
      if (readiness.draining()) {
        res.status(503).json({ status: 'draining' });
        return;
      }
      const report = await runReadinessChecks(readiness.checks, { timeoutMs: readiness.timeoutMs, logger: req.log });
      // Drain may have started while the checks ran.
      if (readiness.draining()) res.status(503).json({ status: 'draining' });
      else if (report.ready) res.json({ status: 'ready', checks: report.checks });
      else res.status(503).json({ status: 'not ready', checks: report.checks, failed: report.failed });
    });
  }
  for (const r of d.routers) app.use(r);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status >= 500) req.log?.error({ err }, 'request failed');
    res.status(status).json({ error: status >= 500 ? 'internal error' : String(err?.message ?? 'bad request') });
  };
  app.use(onError);
  return app;
}
