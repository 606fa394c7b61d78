import { z } from 'zod';
import { openApiPath } from '../../src/http/api/openapi';
import type { ApiRoute } from '../../src/http/api/route';

/**
 * Checks of an OpenAPI document against the route table it was built from, generic over any `ApiRoute[]` (one
 * module's routes, or the whole assembled API). Each returns a list of problems (empty = fine), so a test reads
 * `expect(checkSpecCovers(routes, doc)).toEqual([])` and a failure names every offending route.
 */

type Doc = { paths?: Record<string, Record<string, any>>; components?: { schemas?: Record<string, any> } };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Every route is in `doc.paths` with its method and path (`:id` → `{id}`), its `x-required-role` (a route verified by a
 * signature instead: its `security` schemes, each in `components.securitySchemes`, and no role) and its tag, and
 * every operation in the document is a route (nothing documented that does not exist).
 */
export function checkSpecCovers(routes: ReadonlyArray<ApiRoute<any, any, any>>, doc: Doc): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of routes) {
    const p = openApiPath(r.path);
    const name = `${r.method.toUpperCase()} ${r.path}`;
    seen.add(`${r.method} ${p}`);
    const op = doc.paths?.[p]?.[r.method];
    if (!op) {
      problems.push(`${name}: not in the spec`);
      continue;
    }
    if (r.signature) {
      const want = Object.keys(r.signature.schemes);
      const got = (op.security ?? []).flatMap((s: Record<string, unknown>) => Object.keys(s));
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${name}: security ${got.join(',') || '(none)'} ≠ ${want.join(',')}`);
      for (const id of want) if (!(doc as any).components?.securitySchemes?.[id]) problems.push(`${name}: security scheme ${id} not in components`);
      if (op['x-required-role'] !== undefined) problems.push(`${name}: a signed route has no x-required-role`);
    } else if (op['x-required-role'] !== r.role) problems.push(`${name}: x-required-role ${op['x-required-role']} ≠ ${r.role}`);
    if (!op.tags?.includes(r.tag)) problems.push(`${name}: tag ${r.tag} missing`);
    for (const status of Object.keys(r.responses)) if (!op.responses?.[status]) problems.push(`${name}: response ${status} missing`);
  }
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    for (const m of Object.keys(item).filter((k) => METHODS.includes(k))) if (!seen.has(`${m} ${p}`)) problems.push(`${m.toUpperCase()} ${p}: in the spec but not a route`);
  }
  return problems;
}

const firstSuccessSchema = (r: ApiRoute<any, any, any>): z.ZodType | undefined =>
  Object.entries(r.responses)
    .filter(([s, resp]) => Number(s) < 300 && resp.schema)
    .sort(([a], [b]) => Number(a) - Number(b))[0]?.[1].schema;

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/**
 * Every example validates:
 * - each route's `examples.body` against its `body` schema, and `examples.response` against its first 2xx
 *   response schema (an example without a schema to check it is a problem too);
 * - with `doc`: each component schema's `example` against the zod schema registered under that id
 *   (`.meta({ id, example })`), and any other `example` / `examples` in the document is reported as unchecked
 *   (operation examples come from the routes and are checked above).
 */
export function checkExamples(routes: ReadonlyArray<ApiRoute<any, any, any>>, doc?: Doc): string[] {
  const problems: string[] = [];
  for (const r of routes) {
    const name = `${r.method.toUpperCase()} ${r.path}`;
    if (r.examples?.body !== undefined) {
      if (!r.body) problems.push(`${name}: a body example but no body schema`);
      else {
        const res = r.body.safeParse(r.examples.body);
        if (!res.success) problems.push(`${name}: body example: ${issues(res.error)}`);
      }
    }
    if (r.examples?.response !== undefined) {
      const schema = firstSuccessSchema(r);
      if (!schema) problems.push(`${name}: a response example but no 2xx response schema`);
      else {
        const res = schema.safeParse(r.examples.response);
        if (!res.success) problems.push(`${name}: response example: ${issues(res.error)}`);
      }
    }
  }
  if (!doc) return problems;
  const registry = (z.globalRegistry as unknown as { _idmap: Map<string, z.ZodType> })._idmap;
  for (const [id, schema] of Object.entries(doc.components?.schemas ?? {})) {
    if (schema?.example === undefined) continue;
    const zod = registry.get(id);
    if (!zod) problems.push(`components.schemas.${id}: an example but no zod schema registered with that id`);
    else {
      const res = zod.safeParse(schema.example);
      if (!res.success) problems.push(`components.schemas.${id}: example: ${issues(res.error)}`);
    }
  }
  const checked = (path: string[]) =>
    (path[0] === 'components' && path[1] === 'schemas' && path.length === 4 && path[3] === 'example') ||
    (path[0] === 'paths' && path[path.length - 1] === 'example' && path[path.length - 3] === 'content' && (path[3] === 'requestBody' || path[3] === 'responses'));
  const walk = (v: unknown, path: string[]) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const here = [...path, k];
      if ((k === 'example' || k === 'examples') && !checked(here) && path[path.length - 1] !== 'properties') problems.push(`${here.join('.')}: an example no check covers`);
      else if (k !== 'example') walk(x, here);
    }
  };
  walk(doc, []);
  return problems;
}
