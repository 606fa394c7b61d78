import { Tabs, Title } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';
import { ApiKeysPanel } from './ApiKeysPanel';
import { IntegrationsPanel } from './IntegrationsPanel';
import { UsersPanel } from './UsersPanel';

const TABS = { users: 'Users and roles', 'api-keys': 'API keys', integrations: 'Integrations' } as const;
type Tab = keyof typeof TABS;

/** Settings (admin only; the route is guarded): users and roles, API keys, CRM integrations — one tab each, the tab in the URL. */
export default function SettingsPage() {
  const { '*': rest } = useParams();
  const navigate = useNavigate();
  const tab: Tab = rest && Object.hasOwn(TABS, rest) ? (rest as Tab) : 'users';
  return (
    <>
      <Title order={1} size="h2" mb="md">
        Settings
      </Title>
      <Tabs value={tab} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List mb="md">
          {(Object.keys(TABS) as Tab[]).map((t) => (
            <Tabs.Tab key={t} value={t}>
              {TABS[t]}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="users">
          <UsersPanel />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel />
        </Tabs.Panel>
        <Tabs.Panel value="integrations">
          <IntegrationsPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
