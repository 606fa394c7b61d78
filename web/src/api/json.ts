import { ApiFailure, type FieldIssue } from './client';

/**
 * Same-origin JSON requests for routes not yet in the generated schema (live calls, analytics): the session cookie
 * is sent; a non-2xx answer throws an {@link ApiFailure} built like `unwrap` builds it (`error`, `issues[]`).
 * The lead swaps the wrappers built on this for openapi-fetch calls once those routes are generated.
 * @throws ApiFailure on a non-2xx answer; TypeError on a network failure.
 */
export async function requestJson<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'include',
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data: unknown = res.headers.get('content-type')?.includes('json') ? await res.json().catch(() => null) : null;
  if (res.ok) return data as T;
  const b = (data ?? {}) as { error?: unknown; issues?: unknown };
  throw new ApiFailure(res.status, typeof b.error === 'string' ? b.error : res.statusText || `HTTP ${res.status}`, Array.isArray(b.issues) ? (b.issues as FieldIssue[]) : []);
}
