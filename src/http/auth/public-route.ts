import type { Router } from 'express';
import { mountRoutes, type ApiRoute } from '../api/route';

/**
 * Mounts ONE route-table route that needs no principal (`POST /api/auth/login`), in front of authentication: the
 * same contract as `mountRoutes` (415 / 400 / 413 on the body, 400 `{ error, issues }`, the handler's result,
 * `reply(…)` or thrown `ApiError`) without the role check. The handler gets no principal and must not read it.
 */
export function mountPublicRoute(route: ApiRoute<any, any, any>): Router {
  return mountRoutes([route], { anonymous: true });
}
