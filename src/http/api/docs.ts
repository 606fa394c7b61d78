import { Router } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import 'zod-openapi';
import { defineRoute, type ApiRoute } from './route';

/** Where the OpenAPI document and the reference page live. */
export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';

/**
 * `GET /api/openapi.json` (any role): the OpenAPI 3.1 document `getDocument()` returns (build it once, e.g.
 * `openApiDocument(allRoutes, info)` memoized; it is called per request).
 */
export function docsRoutes(getDocument: () => object): ApiRoute<any, any, any>[] {
  return [
    defineRoute({
      method: 'get',
      path: OPENAPI_PATH,
      role: 'viewer',
      tag: 'docs',
      summary: 'The OpenAPI 3.1 document of this API',
      description: `Generated from the same zod schemas that validate requests. A readable reference is at ${DOCS_PATH}.`,
      responses: { 200: { description: 'The document.', schema: z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' }) } },
      handler: () => getDocument() as Record<string, unknown>,
    }),
  ];
}

/**
 * The reference page's Content-Security-Policy (replacing the app's helmet default on these responses only).
 * The page (swagger-ui-express's HTML around swagger-ui-dist) loads every script from this server —
 * swagger-ui-bundle.js, swagger-ui-standalone-preset.js and the generated swagger-ui-init.js — so `script-src`
 * is `'self'` with no inline script allowed. Styles need `'unsafe-inline'`: the page has `<style>` blocks and a
 * `style` attribute, and swagger-ui renders inline `<style>` / `style=` itself (no nonce hook); styles cannot run
 * code. Images are the stylesheet's `data:` icons; `connect-src 'self'` fetches the document and runs "Try it out"
 * against this server only. Nothing is loaded from elsewhere (works offline; the spec validator badge is off).
 */
export const DOCS_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The API reference page at `/api/docs/` (swagger-ui, assets served from the installed swagger-ui-dist: no CDN),
 * reading the document from {@link OPENAPI_PATH} with the caller's own session cookie. `GET /api/docs` redirects to
 * `/api/docs/` (the page's asset URLs are relative). The router's paths are absolute: mount it with
 * `app.use(docsRouter())` behind the API's authentication (any role may read it).
 */
export function docsRouter(o: { title?: string } = {}): Router {
  const r = Router();
  const opts: swaggerUi.SwaggerUiOptions = {
    swaggerUrl: OPENAPI_PATH,
    customSiteTitle: o.title ?? 'Call center API reference',
    swaggerOptions: { validatorUrl: null, displayRequestDuration: true },
  };
  const html = swaggerUi.generateHTML(undefined, opts);
  const csp = helmet.contentSecurityPolicy({ useDefaults: false, directives: DOCS_CSP_DIRECTIVES });
  r.use(DOCS_PATH, csp, (_req, res, next) => {
    res.set('cache-control', 'no-cache');
    next();
  });
  r.get(DOCS_PATH, (req, res) => {
    if (req.path.endsWith('/')) res.type('html').send(html);
    else res.redirect(301, `${DOCS_PATH}/`);
  });
  r.get(`${DOCS_PATH}/index.html`, (_req, res) => {
    res.redirect(301, `${DOCS_PATH}/`);
  });
  r.use(DOCS_PATH, ...swaggerUi.serveFiles(undefined, opts));
  return r;
}
