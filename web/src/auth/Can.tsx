import { Alert } from '@mantine/core';
import type { ReactNode } from 'react';
import { Outlet } from 'react-router';
import type { Role } from './roles';
import { useCan } from './session';

/** Renders `children` only when the logged-in principal has at least `role` (e.g. edit buttons need `supervisor`). */
export function Can({ role, children }: { role: Role; children: ReactNode }) {
  return useCan(role) ? <>{children}</> : null;
}

/** Route guard inside RequireAuth: the nested routes need `role`, else a "not allowed" notice (the API answers 403 anyway). */
export function RequireRole({ role }: { role: Role }) {
  return useCan(role) ? (
    <Outlet />
  ) : (
    <Alert color="yellow" title="Not allowed">
      This page needs the {role} role.
    </Alert>
  );
}
