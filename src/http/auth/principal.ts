/**
 * Who is making an API request, and what a role may do. Set on `req.principal` by the authentication middleware
 * (session cookie, API key, or the bootstrap `API_KEY`); read by the route table (role checks) and the audit log.
 */

/** Roles, weakest first: `viewer` reads; `supervisor` also manages agents, numbers, campaigns, calls and DNC; `admin` everything. */
export const ROLES = ['viewer', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` is at least `need` (admin ⊇ supervisor ⊇ viewer). */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/**
 * An authenticated caller of the API. `kind`: `user` (session cookie; `id` is the user's id), `api_key` (a key of
 * the `api_keys` table; `id` is the key's id), `bootstrap` (the `API_KEY` env var, always `admin`; `id` is `bootstrap`).
 * `label` is what the audit log shows (the user's email or the key's name); never a secret.
 */
export interface Principal {
  kind: 'user' | 'api_key' | 'bootstrap';
  id: string;
  role: Role;
  label: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the API's authentication middleware; absent on unauthenticated routes. */
    principal?: Principal;
  }
}
