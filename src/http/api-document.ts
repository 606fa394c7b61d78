import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { loadConfig } from '../config';
import type { CallsRepo } from '../db/calls';
import { managementRoutes } from './api';
import { liveRoutes, type LiveRouteDeps } from './api/live';
import { openApiDocument } from './api/openapi';
import type { ApiRoute } from './api/route';
import { createApiRouter, OPENAPI_INFO } from './routes/api';

/**
 * The OpenAPI 3.1 document the server serves at `GET /api/openapi.json`, built offline: the same route table as
 * `startServer` (`createApiRouter` with `managementRoutes`, `liveRoutes` and `extraRoutes`), with no database, Redis connection
 * or listener (route tables touch their dependencies only when a request comes; the Redis client is created with
 * `lazyConnect` and never issues a command). Used by `scripts/gen-api-types.ts` to generate the dashboard's API
 * types (web/src/api/schema.d.ts) and by the test that fails when those are stale.
 * @throws Error when two routes share a method and path (see `openApiDocument`).
 */
export function servedApiDocument(extraRoutes: ReadonlyArray<ApiRoute<any, any, any>> = []): ReturnType<typeof openApiDocument> {
  const db = {} as Knex;
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
  try {
    const config = loadConfig({ NODE_ENV: 'test' });
    const api = createApiRouter({ db, redis, redisPrefix: 'openapi-offline', config, routes: [...managementRoutes({ db, calls: {} as CallsRepo }), ...liveRoutes({} as LiveRouteDeps), ...extraRoutes] });
    return openApiDocument(api.routes, OPENAPI_INFO);
  } finally {
    redis.disconnect();
  }
}
