import { Alert, Badge, Button, Group, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../../app/FormError';
import { api, fieldError, unwrap, type Schema } from '../../../api/client';
import { EndpointDetail } from './EndpointDetail';
import { EventTypesField } from './EventTypesField';
import type { WebhookEventType } from './event-types';
import { SecretOnce } from './SecretOnce';

type Endpoint = Schema<'WebhookEndpoint'>;
export const ENDPOINTS_KEY = ['webhook-endpoints'] as const;

/**
 * Webhook endpoints (admin; the Settings route is admin-only and the API refuses writes below admin): add one (URL,
 * optional description, event types from the catalog; its `whsec_` signing secret is shown once), the list with
 * each endpoint's events, an enabled switch and why it was disabled automatically, and — for the selected endpoint —
 * its editor, secret rotation, removal and delivery log with replay ({@link EndpointDetail}).
 */
export function WebhooksPanel() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ENDPOINTS_KEY, queryFn: () => unwrap(api.GET('/api/webhook-endpoints')) });
  const [draft, setDraft] = useState<{ url: string; description: string; eventTypes: WebhookEventType[] }>({ url: '', description: '', eventTypes: [] });
  const [secret, setSecret] = useState<{ title: string; secret: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ENDPOINTS_KEY });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/webhook-endpoints', { body: { url: draft.url, eventTypes: draft.eventTypes, description: draft.description.trim() || null } })),
    onSuccess: (r) => {
      setSecret({ title: `Endpoint ${r.webhookEndpoint.url} added`, secret: r.secret });
      setDraft({ url: '', description: '', eventTypes: [] });
      setSelected(r.webhookEndpoint.id);
      return refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (v: { id: string; enabled: boolean }) => unwrap(api.PATCH('/api/webhook-endpoints/{id}', { params: { path: { id: v.id } }, body: { enabled: v.enabled } })),
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const endpoints = list.data?.webhookEndpoints ?? [];
  const current = endpoints.find((e) => e.id === selected) ?? null;
  return (
    <Stack>
      <form onSubmit={submit} aria-label="Add a webhook endpoint">
        <Title order={2} size="h4" mb="xs">
          Add an endpoint
        </Title>
        <Group align="flex-start" grow mb="sm">
          <TextInput label="URL" required type="url" placeholder="https://crm.example.com/hooks/calls" value={draft.url} onChange={(e) => setDraft({ ...draft, url: e.currentTarget.value })} error={fieldError(create.error, 'body.url')} />
          <TextInput label="Description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.currentTarget.value })} error={fieldError(create.error, 'body.description')} />
        </Group>
        <EventTypesField value={draft.eventTypes} onChange={(eventTypes) => setDraft({ ...draft, eventTypes })} error={fieldError(create.error, 'body.eventTypes')} />
        <Button type="submit" mt="md" loading={create.isPending}>
          Add endpoint
        </Button>
        <FormError error={create.error} />
      </form>
      {secret && <SecretOnce title={secret.title} secret={secret.secret} onClose={() => setSecret(null)} />}
      {list.isError && <Alert color="red">{list.error.message}</Alert>}
      {toggle.isError && (
        <Alert color="red" role="alert">
          {toggle.error.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={700}>
        <Table aria-label="Webhook endpoints">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>URL</Table.Th>
              <Table.Th>Event types</Table.Th>
              <Table.Th>Enabled</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {endpoints.map((ep) => (
              <EndpointRow key={ep.id} ep={ep} selected={ep.id === selected} onSelect={() => setSelected(ep.id === selected ? null : ep.id)} onToggle={(enabled) => toggle.mutate({ id: ep.id, enabled })} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.isSuccess && !endpoints.length && <Text c="dimmed">No webhook endpoints yet.</Text>}
      {current && (
        <EndpointDetail
          key={current.id}
          ep={current}
          onSecret={(s) => setSecret({ title: `New secret for ${current.url}`, secret: s })}
          onDeleted={() => {
            setSelected(null);
            return refresh();
          }}
        />
      )}
    </Stack>
  );
}

function EndpointRow({ ep, selected, onSelect, onToggle }: { ep: Endpoint; selected: boolean; onSelect: () => void; onToggle: (enabled: boolean) => void }) {
  return (
    <Table.Tr data-testid="webhook-endpoint-row" bg={selected ? 'var(--mantine-color-blue-light)' : undefined}>
      <Table.Td>
        <Text size="sm" style={{ wordBreak: 'break-all' }}>
          {ep.url}
        </Text>
        {ep.description && (
          <Text size="xs" c="dimmed">
            {ep.description}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{ep.eventTypes.join(', ')}</Text>
      </Table.Td>
      <Table.Td>
        <Switch checked={ep.enabled} onChange={(e) => onToggle(e.currentTarget.checked)} aria-label={`Enabled: ${ep.url}`} />
      </Table.Td>
      <Table.Td>
        {ep.disabledReason ? (
          <Text size="sm" c="red.8">
            Disabled: {ep.disabledReason}
          </Text>
        ) : ep.failingSince ? (
          <Badge color="orange" variant="light">
            failing
          </Badge>
        ) : (
          <Badge color={ep.enabled ? 'green' : 'gray'} variant="light">
            {ep.enabled ? 'active' : 'off'}
          </Badge>
        )}
      </Table.Td>
      <Table.Td>
        <Button size="xs" variant={selected ? 'filled' : 'default'} onClick={onSelect} aria-expanded={selected} aria-label={`Manage ${ep.url}`}>
          Manage
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}
