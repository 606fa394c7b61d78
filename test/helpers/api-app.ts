import express from 'express';
import { listen } from './http';
import { mountRoutes, type ApiRoute } from '../../src/http/api/route';
import { ROLES, type Principal, type Role } from '../../src/http/auth/principal';

/** Test principals, one per role (`kind: 'user'`, ids `test-viewer` …). */
export const TEST_PRINCIPALS: Record<Role, Principal> = Object.fromEntries(
  ROLES.map((role) => [role, { kind: 'user', id: `test-${role}`, role, label: `${role}@test.example` }]),
) as Record<Role, Principal>;

/**
 * Serves route-table routes (`mountRoutes`) behind a stand-in for the real authentication: the request header
 * `x-test-role: viewer|supervisor|admin` sets `req.principal` to {@link TEST_PRINCIPALS}[role]; without it the
 * request has no principal (401). For testing one module's routes without sessions or keys; the assembled API's
 * own tests use the real authentication.
 */
export async function serveRoutes(routes: ReadonlyArray<ApiRoute<any, any, any>>): Promise<{ base: string; close: () => Promise<void>; as: (role: Role) => Record<string, string> }> {
  const app = express();
  app.use((req, _res, next) => {
    const role = req.get('x-test-role') as Role | undefined;
    if (role && (ROLES as readonly string[]).includes(role)) req.principal = TEST_PRINCIPALS[role];
    next();
  });
  app.use(mountRoutes(routes));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  const s = await listen(app);
  return { ...s, as: (role) => ({ 'x-test-role': role, 'content-type': 'application/json' }) };
}
