import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import 'zod-openapi';
import { roleAllows, type Principal, type Role } from '../auth/principal';

/**
 * The management API's route table: each route is declared once — method, path, minimum role, zod schemas of its
 * path parameters, query and body, and its responses — and that one declaration both mounts the express handler
 * (role check, then validation, then the handler) and describes the route in the OpenAPI document
 * (src/http/api/openapi.ts). A route cannot exist without being in the spec, and cannot skip validation.
 *
 * Order of checks on a request: authentication (401, the router's auth middleware, before the table) → role
 * (403) → path params, query, body (400 `{ error, issues }`; params first, so an ID is validated before any query)
 * → handler. Handlers throw {@link ApiError} for 404 / 409 and the like.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One documented response of a route. `schema` absent = no body (204) or a non-JSON body (`contentType`); both set =
 * a body of `contentType` whose items `schema` describes (e.g. each `data:` of a `text/event-stream`).
 */
export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`; e.g. `text/csv` for a streamed export (then `schema` is omitted). */
  contentType?: string;
}

/** What a handler gets: the principal and the validated inputs (typed by the route's schemas). */
export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  principal: Principal;
  params: P;
  query: Q;
  body: B;
}

/** A response with a chosen status (e.g. 201 with a `Location`, 204 without a body); made by {@link reply}. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers?: Record<string, string>,
  ) {}
}

/** `reply(201, { agent }, { Location: '/api/agents/x' })`; `reply(204)` sends no body. */
export function reply(status: number, body?: unknown, headers?: Record<string, string>): Reply {
  return new Reply(status, body, headers);
}

/**
 * A handler's result: a JSON body sent with the route's first 2xx status, a {@link Reply}, or `undefined` when the
 * handler wrote the response itself (streams; if it wrote nothing, the first 2xx status is sent without a body).
 */
export type RouteResult = Reply | Record<string, unknown> | unknown[] | undefined;

export interface ApiRoute<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Express path, e.g. `/api/agents/:id`; documented as `/api/agents/{id}`. */
  path: string;
  /** Weakest role allowed (see `roleAllows`). */
  role: Role;
  summary: string;
  /** OpenAPI tag (groups the reference page), e.g. `agents`. */
  tag: string;
  description?: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Largest JSON body (bytes); default 1 MiB. */
  bodyLimitBytes?: number;
  /** Responses by status code (2xx first); 400/401/403/429 are added to the spec automatically. */
  responses: Record<number, RouteResponse>;
  /** Examples shown in the spec; the OpenAPI test validates each against the route's schemas. */
  examples?: { body?: B; response?: unknown };
  /**
   * Request bodies of other content types, for the spec only (not parsed or validated by {@link mountRoutes}),
   * e.g. `{ 'multipart/form-data': { schema } }` for an upload served by its own router.
   */
  otherBodies?: Record<string, { schema: z.ZodType; description?: string }>;
  /**
   * Content types the handler reads from `req` itself (streamed uploads: `text/csv`, `multipart/form-data`); a
   * request of one of them skips JSON parsing and `body` validation (the handler gets `body: undefined`), while a
   * JSON request is parsed and validated as usual. Document them in `otherBodies`.
   */
  rawBodyTypes?: string[];
  /** Documented here but served by another router ({@link docOnlyRoute}); {@link mountRoutes} skips it. */
  docOnly?: boolean;
  /** Request headers, for the spec only (not validated by {@link mountRoutes}), e.g. a signature's timestamp. */
  headers?: z.ZodType;
  /**
   * The route is authenticated by a request signature, not a session or API key (spec only; a {@link docOnlyRoute}
   * whose own router verifies it): the operation's `security` lists these schemes (added to
   * `components.securitySchemes`), the 401 says `unauthorized`, and no role applies (no `x-required-role`, no 403).
   */
  signature?: { schemes: Record<string, { type: 'apiKey'; in: 'header'; name: string; description: string }>; unauthorized: string };
  handler(ctx: RouteContext<P, Q, B>): Promise<RouteResult> | RouteResult;
}

/** Declares a route (an identity function that infers the handler's input types from the schemas). */
export function defineRoute<P = undefined, Q = undefined, B = undefined>(route: ApiRoute<P, Q, B>): ApiRoute<P, Q, B> {
  return route;
}

/**
 * Declares a route that another router serves (a plain express Router, e.g. multipart uploads) so that it still
 * appears in the OpenAPI document; {@link mountRoutes} skips it. Its `body` (if any) documents the JSON variant and
 * `otherBodies` the rest.
 */
export function docOnlyRoute<P = undefined, Q = undefined, B = undefined>(route: Omit<ApiRoute<P, Q, B>, 'handler' | 'docOnly'>): ApiRoute<P, Q, B> {
  return {
    ...route,
    docOnly: true,
    handler: () => {
      throw new Error(`${route.method.toUpperCase()} ${route.path} is documented only; another router serves it`);
    },
  };
}

/** An error a handler throws for a 4xx: sent as `{ error: message }` with `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The 400 body: `error` a readable summary, `issues` one entry per problem (`path` like `body.languages.0`). */
export const validationErrorSchema = z
  .object({
    error: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .meta({ id: 'ValidationError', example: { error: 'body.name: Required', issues: [{ path: 'body.name', message: 'Required' }] } });

/** Every other error body. */
export const errorSchema = z.object({ error: z.string() }).meta({ id: 'Error', example: { error: 'agent support not found' } });

/** Builds the 400 body from zod errors of one or more parts (`params`, `query`, `body`). */
export function validationError(parts: Array<[where: string, err: z.ZodError]>): z.infer<typeof validationErrorSchema> {
  const issues = parts.flatMap(([where, e]) => e.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })));
  return { error: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

const successStatus = (r: ApiRoute<any, any, any>): number => Number(Object.keys(r.responses).find((s) => Number(s) < 300) ?? 200);

/**
 * Mounts routes on a fresh Router. Each request must already carry `req.principal` (the auth middleware in front
 * answers 401 otherwise; a request reaching here without one gets 401 too). `o.anonymous`: the routes need no
 * principal and have no role check (only `POST /api/auth/login`, mounted in front of authentication); their
 * handlers get `principal` undefined and must not read it.
 */
export function mountRoutes(routes: ReadonlyArray<ApiRoute<any, any, any>>, o: { anonymous?: boolean } = {}): Router {
  const r = Router();
  for (const route of routes) {
    if (route.docOnly) continue;
    const json = express.json({ limit: route.bodyLimitBytes ?? 1024 * 1024, type: () => true });
    const ok = successStatus(route);
    r[route.method](route.path, async (req, res, next) => {
      // Anonymous routes (login) skip both checks: validation and the handler only.
      const principal = req.principal as Principal;
      if (!o.anonymous && !principal) {
        res.status(401).json({ error: 'authentication required' });
        return;
      }
      if (!o.anonymous && !roleAllows(principal.role, route.role)) {
        res.status(403).json({ error: `this needs the ${route.role} role (you are ${principal.role})` });
        return;
      }
      const params = route.params ? route.params.safeParse(req.params) : null;
      if (params && !params.success) {
        res.status(400).json(validationError([['params', params.error]]));
        return;
      }
      const query = route.query ? route.query.safeParse(req.query) : null;
      if (query && !query.success) {
        res.status(400).json(validationError([['query', query.error]]));
        return;
      }
      let body: unknown = undefined;
      const raw = route.rawBodyTypes && req.is(route.rawBodyTypes);
      if (route.rawBodyTypes && !raw && !(route.body && req.is('application/json'))) {
        res.status(415).json({ error: `send the body as ${[...(route.body ? ['application/json'] : []), ...route.rawBodyTypes].join(' or ')}` });
        return;
      }
      if (route.body && !raw) {
        if (!req.is('application/json')) {
          res.status(415).json({ error: 'send the body as application/json' });
          return;
        }
        try {
          await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
        } catch (err: any) {
          res.status(typeof err?.status === 'number' && err.status < 500 ? err.status : 400).json({ error: `body: ${err?.type === 'entity.too.large' ? 'too large' : 'not valid JSON'}` });
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
        const out = await route.handler({ req, res, principal, params: params?.data, query: query?.data, body });
        if (res.headersSent || out === undefined) {
          if (!res.headersSent) res.status(ok).end();
          return;
        }
        if (out instanceof Reply) {
          if (out.headers) res.set(out.headers);
          if (out.body === undefined) res.status(out.status).end();
          else res.status(out.status).json(out.body);
          return;
        }
        res.status(ok).json(out);
      } catch (err) {
        if (err instanceof ApiError) {
          res.status(err.status).json({ error: err.message });
          return;
        }
        next(err);
      }
    });
  }
  return r;
}
