import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    log?: Logger;
  }
}

/**
 * The express app: security headers, a per-request child logger, `GET /healthz` (no auth), the given routers
 * (Twilio webhooks are signature-checked, the REST API is bearer-authenticated inside their routers), JSON 404s
 * and an error handler that never leaks internals.
 */
export function createApp(d: { logger: Logger; routers: Router[]; trustProxyHops?: number }): Express {
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
