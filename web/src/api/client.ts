import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * The typed API client: openapi-fetch over the generated `paths` (web/src/api/schema.d.ts, from the server's
 * OpenAPI document), same origin, the `cc_session` cookie sent with every request (`credentials: 'include'`).
 * Paths are the full `/api/...` ones of the document, so the base URL is the page's origin.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'include' });

/** A component schema by name, e.g. `Schema<'Agent'>`. */
export type Schema<K extends keyof components['schemas']> = components['schemas'][K];

/** One problem of a 400 answer (`{ error, issues: [{ path, message }] }`); `path` like `body.llm.model` or `query.limit`. */
export type FieldIssue = Schema<'ValidationError'>['issues'][number];

/**
 * An API answer that was not 2xx: `status` (HTTP), `message` (the body's `error`, else the status text) and
 * `issues` (the zod validation problems of a 400; empty otherwise).
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** The messages of the issues at a path or under it, e.g. `issuesFor('body.llm')`, `issuesFor('query.csatMax')`. */
  issuesFor(path: string): string[] {
    return this.issues.filter((i) => i.path === path || i.path.startsWith(`${path}.`)).map((i) => i.message);
  }
}

/**
 * The data of an openapi-fetch result, or an {@link ApiFailure} thrown from its error body and response.
 * Use in TanStack Query functions: `queryFn: () => unwrap(api.GET('/api/calls', { params }))`.
 */
export async function unwrap<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: unknown; issues?: unknown };
  const issues = Array.isArray(body.issues) ? (body.issues as FieldIssue[]) : [];
  throw new ApiFailure(response.status, typeof body.error === 'string' ? body.error : response.statusText || `HTTP ${response.status}`, issues);
}

/** The issue messages at `path` of an error if it is an {@link ApiFailure} (joined for a field's `error` prop), else undefined. */
export function fieldError(err: unknown, path: string): string | undefined {
  const m = err instanceof ApiFailure ? err.issuesFor(path) : [];
  return m.length ? m.join('; ') : undefined;
}
