import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router } from 'express';
import helmet from 'helmet';
import { requireRole } from '../auth/require-role';

/**
 * Where Bull Board is served: under `/api`, because the session cookie is scoped to `Path=/api`
 * (src/http/auth/session.ts), so that is the only place a browser sends it. `/admin/queues` redirects here.
 */
export const QUEUE_BOARD_PATH = '/api/admin/queues';
/** The short address linked from Settings; it redirects to {@link QUEUE_BOARD_PATH}. */
export const QUEUE_BOARD_ALIAS = '/admin/queues';

/**
 * Bull Board's own Content-Security-Policy (it replaces the API's default one on the board's answers only; the
 * dashboard keeps src/http/routes/web-ui.ts's). The board's page loads its scripts and CSS from its `static/` files
 * (same origin) and keeps its config in a `type="application/json"` script tag (data, not executed), so scripts
 * stay `'self'` only; inline styles are allowed (its loading screen and React `style` props use them); its XHRs go
 * to its own API here. Its Google Fonts stylesheet is not allowed (no third-party requests from an admin page: the
 * fonts fall back to the system's).
 */
export const QUEUE_BOARD_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

/**
 * Bull Board (queue monitoring: counts, jobs, failures with their stack, retry / clean / pause) for `queues`, at
 * {@link QUEUE_BOARD_PATH}. Mount it among the API router's `routers`: every request has then passed the `/api`
 * chain (session or API key → 401, CSRF origin check on cookie-authenticated writes → 403, rate limits, no-store);
 * this router adds the admin role (403 below it) and {@link QUEUE_BOARD_CSP}. The board's JSON API lives under
 * `<path>/api/…` (e.g. `GET …/api/queues`).
 */
export function createQueueBoardRouter(o: { queues: ReadonlyArray<Queue<any, any, any>> }): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: o.queues.map((q) => new BullMQAdapter(q, { allowRetries: true })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Call center queues' } },
  });
  const board = adapter.getRouter();
  board.disable('x-powered-by');
  const r = Router();
  r.use(QUEUE_BOARD_PATH, requireRole('admin'), helmet({ contentSecurityPolicy: { useDefaults: false, directives: QUEUE_BOARD_CSP } }), board);
  return r;
}

/** `GET /admin/queues` (and with a trailing slash) → 302 to {@link QUEUE_BOARD_PATH}`/` (public: it reveals nothing). */
export function queueBoardAliasRouter(): Router {
  const r = Router();
  r.get([QUEUE_BOARD_ALIAS, `${QUEUE_BOARD_ALIAS}/`], (_req, res) => res.redirect(302, `${QUEUE_BOARD_PATH}/`));
  return r;
}
