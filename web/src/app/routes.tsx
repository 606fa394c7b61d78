import { lazy } from 'react';
import { Navigate, type RouteObject } from 'react-router';
import { RequireRole } from '../auth/Can';
import { RequireAuth } from '../auth/RequireAuth';
import { AppLayout } from './AppLayout';

// Every page is its own chunk (React.lazy), the login form included: the entry holds the providers, the router and
// the signed-in frame only.
const LoginPage = lazy(() => import('../pages/LoginPage'));
const CallsPage = lazy(() => import('../pages/calls/CallsPage'));
const CallPage = lazy(() => import('../pages/calls/CallPage'));
const AgentsPage = lazy(() => import('../pages/agents/AgentsPage'));
const AgentPage = lazy(() => import('../pages/agents/AgentPage'));
const PhoneNumbersPage = lazy(() => import('../pages/numbers/PhoneNumbersPage'));
const DncPage = lazy(() => import('../pages/dnc/DncPage'));
const SettingsPage = lazy(() => import('../pages/settings/SettingsPage'));
const CampaignsPage = lazy(() => import('../pages/campaigns/CampaignsPage'));
const CampaignWizardPage = lazy(() => import('../pages/campaigns/CampaignWizardPage'));
const CampaignPage = lazy(() => import('../pages/campaigns/CampaignPage'));
const TestCallPage = lazy(() => import('../pages/test-call/TestCallPage'));
const OverviewPage = lazy(() => import('../pages/overview/OverviewPage'));
const LiveCallsPage = lazy(() => import('../pages/live/LiveCallsPage'));
const NotFoundPage = lazy(() => import('../pages/NotFoundPage'));

/**
 * The dashboard's routes. `/login` is public; everything else sits behind RequireAuth (GET /api/me) in the
 * AppLayout; `/settings` needs admin.
 */
export const routes: RouteObject[] = [
  { path: '/login', element: <LoginPage /> },
  {
    element: <RequireAuth />,
    children: [
      {
        element: <AppLayout />,
        children: [
          { index: true, element: <Navigate to="/calls" replace /> },
          { path: 'overview', element: <OverviewPage /> },
          { path: 'live', element: <LiveCallsPage /> },
          { path: 'calls', element: <CallsPage /> },
          { path: 'calls/:callSid', element: <CallPage /> },
          { path: 'agents', element: <AgentsPage /> },
          { path: 'agents/new', element: <AgentPage /> },
          { path: 'agents/:id', element: <AgentPage /> },
          { path: 'campaigns', element: <CampaignsPage /> },
          { element: <RequireRole role="supervisor" />, children: [{ path: 'campaigns/new', element: <CampaignWizardPage /> }] },
          { path: 'campaigns/:id', element: <CampaignPage /> },
          { path: 'test-call', element: <TestCallPage /> },
          { path: 'phone-numbers', element: <PhoneNumbersPage /> },
          { path: 'dnc', element: <DncPage /> },
          { element: <RequireRole role="admin" />, children: [{ path: 'settings/*', element: <SettingsPage /> }] },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
];
