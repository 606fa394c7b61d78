import express, { Router } from 'express';
import { ApiError, Reply, validationError, type ApiRoute } from '../api/route';
import type { Principal } from './principal';

/**
 * Mounts ONE route-table route that needs no principal (`POST /api/auth/login`), in front of authentication. Same
 * contract as `mountRoutes` except the role check: body parsed as JSON (415 unless application/json, 400 on bad
 * JSON, 413 past `bodyLimitBytes`), validated (400 `{ error, issues }`), then the handler; its result, `reply(…)` or
 * thrown `ApiError` become the response. The handler gets no principal (`ctx.principal` is undefined: it must not
 * read it). Params and query are not supported (login has none).
 */
export function mountPublicRoute(route: ApiRoute<any, any, any>): Router {
  const r = Router();
  const json = express.json({ limit: route.bodyLimitBytes ?? 16 * 1024, type: () => true });
  const ok = Number(Object.keys(route.responses).find((s) => Number(s) < 300) ?? 200);
  r[route.method](route.path, async (req, res, next) => {
    let body: unknown = undefined;
    if (route.body) {
      if (!req.is('application/json')) {
        res.status(415).json({ error: 'send the body as application/json' });
        return;
      }
      try {
        await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      } catch (err: any) {
        res.status(err?.type === 'entity.too.large' ? 413 : 400).json({ error: `body: ${err?.type === 'entity.too.large' ? 'too large' : 'not valid JSON'}` });
        return;
      }
      const parsed = route.body.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json(validationError([['body', parsed.error]]));
        return;
      }
      body = parsed.data;
    }
    try {
      const out = await route.handler({ req, res, principal: undefined as unknown as Principal, params: undefined, query: undefined, body });
      if (res.headersSent) return;
      if (out instanceof Reply) {
        if (out.headers) res.set(out.headers);
        if (out.body === undefined) res.status(out.status).end();
        else res.status(out.status).json(out.body);
      } else if (out === undefined) res.status(ok).end();
      else res.status(ok).json(out);
    } catch (err) {
      if (err instanceof ApiError) res.status(err.status).json({ error: err.message });
      else next(err);
    }
  });
  return r;
}
