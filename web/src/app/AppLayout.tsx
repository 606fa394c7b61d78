import { AppShell, Burger, Button, Group, NavLink, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { Suspense } from 'react';
import { NavLink as RouterNavLink, Outlet, useNavigate } from 'react-router';
import { logout, useCan, useMe } from '../auth/session';
import { PageLoader } from './PageLoader';
import { NAV, type NavItem } from './nav';

function NavEntry({ item, onClick }: { item: NavItem; onClick(): void }) {
  const allowed = useCan(item.role ?? 'viewer');
  if (!allowed) return null;
  return (
    <NavLink
      component={RouterNavLink}
      to={item.to}
      label={item.label}
      onClick={onClick}
    />
  );
}

/**
 * The signed-in frame (Mantine AppShell): header with the product name, the user and their role, and Log out;
 * the navigation (entries the role may not open are hidden: Settings is admin-only); the page in a Suspense
 * boundary (pages are lazy-loaded chunks).
 */
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const onLogout = async () => {
    await logout(qc);
    navigate('/login', { replace: true });
  };
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text fw={700} size="lg">
              Call center
            </Text>
          </Group>
          <Group>
            <Text size="sm" data-testid="whoami">
              {me.principal.label} · {me.principal.role}
            </Text>
            <Button variant="default" size="xs" onClick={onLogout}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {NAV.map((item) => (
          <NavEntry key={item.to} item={item} onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<PageLoader />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

