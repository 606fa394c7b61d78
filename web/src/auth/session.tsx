import { createContext, useContext, type ReactNode } from 'react';
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api, ApiFailure, unwrap, type Schema } from '../api/client';
import { roleAllows, type Role } from './roles';

/** `GET /api/me`: the principal and, for a user, the account. */
export type Me = { principal: Schema<'Principal'>; user?: Schema<'User'> };

/** Query key of the current principal. */
export const ME_KEY = ['me'] as const;

/** `GET /api/me`, or null when not logged in (401). Other failures throw. */
async function fetchMe(): Promise<Me | null> {
  try {
    return (await unwrap(api.GET('/api/me'))) as Me;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return null;
    throw err;
  }
}

const MeContext = createContext<Me | null>(null);

/** The current principal's loading state: `me` is null when logged out. */
export function useMeQuery() {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 60_000, retry: false });
}

/** Provides the logged-in principal to the pages under it (set by RequireAuth). */
export function MeProvider({ me, children }: { me: Me; children: ReactNode }) {
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

/** The logged-in principal. @throws Error outside a RequireAuth subtree. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside RequireAuth');
  return me;
}

/** Whether the logged-in principal has at least `need` (the UI hides what the role cannot do; the API enforces it). */
export function useCan(need: Role): boolean {
  return roleAllows(useMe().principal.role, need);
}

/** `POST /api/auth/logout`, then forget every cached answer (the next user must not see them). */
export async function logout(qc: QueryClient): Promise<void> {
  await api.POST('/api/auth/logout');
  qc.clear();
  qc.setQueryData(ME_KEY, null);
}

/** The query client of the current tree (re-exported so pages need one import). */
export const useQc = useQueryClient;
