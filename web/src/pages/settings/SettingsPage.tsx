import { Anchor, Group, Tabs, Title } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';
import { ApiKeysPanel } from './ApiKeysPanel';
import { IntegrationsPanel } from './IntegrationsPanel';
import { UsersPanel } from './UsersPanel';
import { WebhooksPanel } from './webhooks/WebhooksPanel';

const TABS = { users: 'Users and roles', 'api-keys': 'API keys', webhooks: 'Webhook endpoints', integrations: 'Integrations' } as const;
type Tab = keyof typeof TABS;

/** Settings (admin only; the route is guarded): users and roles, API keys, webhook endpoints, CRM integrations — one tab each, the tab in the URL — and a link to the queue monitor (Bull Board). */
export default function SettingsPage() {
  const { '*': rest } = useParams();
  const navigate = useNavigate();
  const tab: Tab = rest && Object.hasOwn(TABS, rest) ? (rest as Tab) : 'users';
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Settings
        </Title>
        {/* Bull Board (served by the server, admin only): a full page load, not a client-side route. */}
        <Anchor href="/admin/queues">Queue monitoring</Anchor>
      </Group>
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
        <Tabs.Panel value="webhooks">
          <WebhooksPanel />
        </Tabs.Panel>
        <Tabs.Panel value="integrations">
          <IntegrationsPanel />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
