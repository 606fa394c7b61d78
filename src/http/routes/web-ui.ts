import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { packageRoot } from '../../providers/stt/moonshine';

/** Where `npm run build` (scripts/build.mjs → vite build) writes the dashboard: `<package root>/dist/web`. */
export const DEFAULT_WEB_UI_DIR = join(packageRoot(__dirname), 'dist', 'web');

/** Path prefixes that belong to the server, never to the dashboard's client-side routes (no index.html fallback). */
export const SERVER_PATH_PREFIXES = ['/api', '/twilio', '/metrics', '/healthz', '/readyz'] as const;

/** A year, the cache lifetime of content-hashed assets (s). */
const IMMUTABLE_MAX_AGE_S = 365 * 24 * 3600;

/**
 * The dashboard's Content-Security-Policy: scripts only from this origin (no inline script, no eval); inline styles
 * allowed because Mantine sets `style` attributes and injects its CSS variables in a `<style>` tag; audio from this
 * origin and `blob:` (recordings, the test call's playback); fetch/XHR/WebSocket to this origin only (CSP Level 3:
 * `'self'` also matches `ws:`/`wss:` on the same host); workers and audio worklets from this origin or `blob:`;
 * no framing, no plugins, forms post here only.
 */
export const WEB_UI_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

const isServerPath = (path: string) => SERVER_PATH_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}.`));

/**
 * Serves the built dashboard (`dir`, default {@link DEFAULT_WEB_UI_DIR}) at `/`; mount it after every other router.
 * Public: the files hold no data, and every API call the UI makes is authenticated.
 * - files under `/assets/` (content-hashed names) with `Cache-Control: public, max-age=31536000, immutable`;
 *   other files (index.html, favicon) `no-cache`;
 * - any other GET/HEAD that accepts HTML and is not a server path ({@link SERVER_PATH_PREFIXES}) gets index.html
 *   (client-side routes such as `/calls/CA123`), so reloads and deep links work;
 * - every answer carries {@link WEB_UI_CSP} (helmet);
 * - server paths pass through untouched (their own 404s stay JSON); when the UI is not built, its routes answer
 *   503 `the dashboard is not built: run npm run build`.
 */
export function createWebUiRouter(o: { dir?: string } = {}): Router {
  const dir = o.dir ?? DEFAULT_WEB_UI_DIR;
  const index = join(dir, 'index.html');
  const r = Router();
  const csp = helmet({ contentSecurityPolicy: { useDefaults: false, directives: WEB_UI_CSP } });
  const skipServerPaths: RequestHandler = (req, _res, next) => (isServerPath(req.path) ? next('router') : next());
  r.use(skipServerPaths, csp);
  r.use(
    express.static(dir, {
      index: false,
      fallthrough: true,
      setHeaders: (res, path) => {
        res.setHeader('Cache-Control', path.startsWith(join(dir, 'assets')) ? `public, max-age=${IMMUTABLE_MAX_AGE_S}, immutable` : 'no-cache');
      },
    }),
  );
  r.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.accepts('html') || req.path.startsWith('/assets/')) return next();
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('the dashboard is not built: run npm run build');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return r;
}
