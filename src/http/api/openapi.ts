import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import type { z } from 'zod';
import { errorSchema, validationErrorSchema, type ApiRoute } from './route';
import { webhookDocs } from './webhook-docs';

/** Express `/api/agents/:id` → OpenAPI `/api/agents/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const json = (schema: z.ZodType, example?: unknown) => ({ 'application/json': { schema, ...(example !== undefined ? { example } : {}) } });

/** The request body's content by media type: the validated JSON body, then any documented-only others. */
function requestContent(route: ApiRoute<any, any, any>): Record<string, unknown> {
  const others = Object.fromEntries(
    Object.entries(route.otherBodies ?? {}).map(([type, b]) => [type, { schema: b.description ? b.schema.meta({ description: b.description }) : b.schema }]),
  );
  return { ...(route.body ? json(route.body, route.examples?.body) : {}), ...others };
}

function operation(route: ApiRoute<any, any, any>): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = {};
  let exampleUsed = false;
  for (const [status, r] of Object.entries(route.responses)) {
    const example = !exampleUsed && Number(status) < 300 && r.schema ? route.examples?.response : undefined;
    if (example !== undefined) exampleUsed = true;
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description: r.description,
      ...(r.schema && r.contentType ? { content: { [r.contentType]: { schema: r.schema } } } : r.schema ? { content: json(r.schema, example) } : r.contentType ? { content: { [r.contentType]: { schema: { type: 'string' } } } } : {}),
    };
  }
  const add = (status: string, description: string, schema: z.ZodType) => {
    responses[status as `4${string}`] ??= { description, content: json(schema) };
  };
  if (!route.signature && (route.params || route.query || route.body)) add('400', 'Invalid path parameter, query or body (`issues` lists each problem).', validationErrorSchema);
  add('401', route.signature?.unauthorized ?? 'No valid session cookie or API key.', errorSchema);
  if (!route.signature && route.role !== 'viewer') add('403', `Needs the ${route.role} role.`, errorSchema);
  add('429', 'Rate limit reached (see `Retry-After`).', errorSchema);
  const requestParams = { ...(route.params ? { path: route.params } : {}), ...(route.query ? { query: route.query } : {}), ...(route.headers ? { header: route.headers } : {}) };
  return {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.signature ? { security: Object.keys(route.signature.schemes).map((id) => ({ [id]: [] })) } : { 'x-required-role': route.role }),
    ...(Object.keys(requestParams).length ? { requestParams } : {}),
    ...(route.body || route.otherBodies ? { requestBody: { required: true, content: requestContent(route) } } : {}),
    responses,
  } as ZodOpenApiOperationObject;
}

/**
 * The OpenAPI 3.1 document of a route table (`GET /api/openapi.json`): one operation per route, schemas from the
 * same zod objects that validate requests, `x-required-role` on each operation, and two security schemes
 * (`Authorization: Bearer cc_…` API keys, and the `cc_session` cookie from `POST /api/auth/login`) — plus the
 * signature schemes of routes verified by a signature instead (`ApiRoute.signature`: the inbound triggers) — and the
 * `webhooks` section: every event of the catalog we POST to webhook endpoints (src/http/api/webhook-docs.ts).
 * @throws Error when two routes share a method and path.
 */
export function openApiDocument(routes: ReadonlyArray<ApiRoute<any, any, any>>, info: { title: string; version: string; description?: string }): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  const signatureSchemes = Object.assign({}, ...routes.map((r) => r.signature?.schemes ?? {}));
  for (const route of routes) {
    const p = openApiPath(route.path);
    const item = (paths[p] ??= {}) as Record<string, unknown>;
    if (item[route.method]) throw new Error(`openApiDocument: ${route.method.toUpperCase()} ${route.path} is declared twice`);
    item[route.method] = operation(route);
  }
  return createDocument({
    openapi: '3.1.0',
    info,
    paths,
    webhooks: webhookDocs(),
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`cc_…`, POST /api/api-keys) or the bootstrap `API_KEY`.' },
        session: { type: 'apiKey', in: 'cookie', name: 'cc_session', description: 'The session cookie set by POST /api/auth/login.' },
        ...signatureSchemes,
      },
    },
    security: [{ apiKey: [] }, { session: [] }],
  });
}
