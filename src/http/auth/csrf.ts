import type { Request, RequestHandler } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin (`scheme://host[:port]`) of a URL, or null when it is not an absolute http(s) URL. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Where a browser request came from: its `Origin` header, else the origin of its `Referer`; null when neither is
 * usable (absent, `null`, not http(s)).
 */
export function requestSourceOrigin(req: Request): string | null {
  const origin = req.get('origin');
  if (origin !== undefined) return origin === 'null' ? null : originOf(origin);
  const referer = req.get('referer');
  return referer ? originOf(referer) : null;
}

/**
 * The origins a state-changing browser request may come from: `publicBaseUrl`'s origin and the request's own origin
 * (`req.protocol` + `Host`, so a dashboard served by this server on another name — localhost, an internal host —
 * still works).
 */
export function allowedOrigins(req: Request, publicBaseUrl: string): string[] {
  const own = req.get('host') ? originOf(`${req.protocol}://${req.get('host')}`) : null;
  return [originOf(publicBaseUrl), own].filter((o): o is string => o !== null);
}

/**
 * CSRF defence for cookie-authenticated requests (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With Standard
 * Headers"; SameSite=Lax on the cookie is the second layer): a request with a non-safe method (not GET/HEAD/OPTIONS)
 * for which `applies(req)` is true must carry an `Origin` (or, failing that, a `Referer`) whose origin is one of
 * {@link allowedOrigins}; otherwise 403 `{ error }`. Browsers send `Origin` on every cross-origin and same-origin
 * POST/PUT/PATCH/DELETE from fetch or forms, so legitimate dashboard requests always pass. Bearer-authenticated
 * requests skip it (`applies` false): a browser never attaches an Authorization header on its own.
 */
export function csrfGuard(o: { publicBaseUrl: string; applies(req: Request): boolean }): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || !o.applies(req)) return next();
    const error = originCheckError(req, o.publicBaseUrl);
    if (error !== null) {
      res.status(403).json({ error });
      return;
    }
    next();
  };
}

/**
 * The Origin rule of {@link csrfGuard} on its own (also used by WebSocket upgrades, which are GETs that browsers
 * open cross-site without asking): null when the request's {@link requestSourceOrigin} is one of
 * {@link allowedOrigins}, else the reason to refuse it (a 403 message).
 */
export function originCheckError(req: Request, publicBaseUrl: string): string | null {
  const source = requestSourceOrigin(req);
  if (source === null) return 'cross-site request check failed: a browser request that changes data must send an Origin header';
  if (!allowedOrigins(req, publicBaseUrl).includes(source)) return `cross-site request check failed: origin ${source} is not allowed`;
  return null;
}
