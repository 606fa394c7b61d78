import type { z } from 'zod';
import { openApiDocument } from '../../../src/http/api/openapi';
import type { ApiRoute } from '../../../src/http/api/route';
import { authRoutes } from '../../../src/http/api/auth';
import { userRoutes } from '../../../src/http/api/users';
import { apiKeyRoutes } from '../../../src/http/api/api-keys';
import type { Accounts } from '../../../src/http/auth/accounts';

// The handlers are never called here: the route declarations only.
const routes: ApiRoute<any, any, any>[] = [
  ...authRoutes({ users: {} as never, limiter: {} as never, publicBaseUrl: 'https://voice.example.com' }),
  ...userRoutes({} as Accounts),
  ...apiKeyRoutes({} as Accounts),
];

describe('account routes in the OpenAPI document', () => {
  it('every route is in the spec with its role', () => {
    const doc = openApiDocument(routes, { title: 't', version: '1' }) as any;
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method];
      expect(op).toBeDefined();
      expect(op['x-required-role']).toBe(r.role);
    }
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/api-keys', '/api/api-keys/{id}', '/api/auth/login', '/api/auth/logout', '/api/me', '/api/users', '/api/users/{id}']);
  });

  it('every example validates against its schema', () => {
    let checked = 0;
    for (const r of routes) {
      if (r.examples?.body !== undefined) {
        expect(r.body!.safeParse(r.examples.body).error).toBeUndefined();
        checked++;
      }
      if (r.examples?.response !== undefined) {
        const ok = Object.entries(r.responses).find(([s, x]) => Number(s) < 300 && x.schema)!;
        expect((ok[1].schema as z.ZodType).safeParse(r.examples.response).error).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('admin-only: every users and api-keys route needs admin; login, logout and me any role', () => {
    expect(routes.filter((r) => /\/api\/(users|api-keys)/.test(r.path)).every((r) => r.role === 'admin')).toBe(true);
    expect(routes.filter((r) => /\/api\/(auth|me)/.test(r.path)).every((r) => r.role === 'viewer')).toBe(true);
  });
});
