import { Alert, Center, Loader } from '@mantine/core';
import { Navigate, Outlet, useLocation } from 'react-router';
import { MeProvider, useMeQuery } from './session';

/**
 * Route guard: while `GET /api/me` loads shows a loader; logged out → `/login?next=<path>`. Provides the principal
 * to the nested routes (useMe, useCan).
 */
export function RequireAuth() {
  const q = useMeQuery();
  const loc = useLocation();
  if (q.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (q.isError) return <Alert color="red" title="The server did not answer">{q.error.message}</Alert>;
  if (!q.data) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  return (
    <MeProvider me={q.data}>
      <Outlet />
    </MeProvider>
  );
}
