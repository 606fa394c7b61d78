import type { Schema } from '../api/client';

/** A principal's role: `viewer` reads, `supervisor` also edits agents, numbers, DNC and campaigns, `admin` also manages users, API keys and settings. */
export type Role = Schema<'Principal'>['role'];

const RANK: Record<Role, number> = { viewer: 0, supervisor: 1, admin: 2 };

/** Whether `have` may do what needs `need` (the same order as the server's `roleAllows`). */
export function roleAllows(have: Role | undefined, need: Role): boolean {
  return have !== undefined && RANK[have] >= RANK[need];
}
