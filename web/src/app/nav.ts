import type { Role } from '../auth/roles';

/** One navigation entry: the path it opens, its label and the role it needs (hidden below it; default viewer). */
export interface NavItem {
  to: string;
  label: string;
  role?: Role;
}

/** The dashboard's navigation, in display order (the routes are in routes.tsx). */
export const NAV: NavItem[] = [
  { to: '/overview', label: 'Overview' },
  { to: '/live', label: 'Live calls' },
  { to: '/calls', label: 'Calls' },
  { to: '/agents', label: 'Agents' },
  { to: '/campaigns', label: 'Campaigns' },
  { to: '/test-call', label: 'Test call' },
  { to: '/phone-numbers', label: 'Phone numbers' },
  { to: '/dnc', label: 'DNC list' },
  { to: '/settings', label: 'Settings', role: 'admin' },
];
