import { Alert, Badge, Button, Card, Code, Group, Switch, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { FormError } from '../../../app/FormError';
import { api, fieldError, unwrap, type Schema } from '../../../api/client';
import { formatTime } from '../../../lib/format';
import { EventTypesField } from './EventTypesField';
import type { WebhookEventType } from './event-types';

type Endpoint = Schema<'WebhookEndpoint'>;
type Delivery = Schema<'WebhookDelivery'>;

const STATUS_COLOR: Record<Delivery['status'], string> = { pending: 'gray', delivered: 'green', dead: 'red' };

/**
 * One endpoint's management card: edit its event types and enabled flag (PATCH), rotate its signing secret (the new
 * one goes to `onSecret`, shown once by the panel), delete it (after a confirming second click), and its delivery log
 * (`GET …/deliveries`, newest first, refreshed every 5 s): status, attempts, the last attempt's HTTP status, latency
 * and response excerpt, and a Replay button per delivery (`POST /api/webhook-deliveries/:id/replay`).
 */
export function EndpointDetail({ ep, onSecret, onDeleted }: { ep: Endpoint; onSecret: (secret: string) => void; onDeleted: () => unknown }) {
  const qc = useQueryClient();
  const [events, setEvents] = useState<WebhookEventType[]>(ep.eventTypes);
  const [enabled, setEnabled] = useState(ep.enabled);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const path = { params: { path: { id: ep.id } } };
  const refresh = () => qc.invalidateQueries({ queryKey: ['webhook-endpoints'] });
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', ep.id],
    queryFn: () => unwrap(api.GET('/api/webhook-endpoints/{id}/deliveries', { params: { path: { id: ep.id }, query: { limit: 50 } } })),
    refetchInterval: 5_000,
  });
  const save = useMutation({ mutationFn: () => unwrap(api.PATCH('/api/webhook-endpoints/{id}', { ...path, body: { eventTypes: events, enabled } })), onSuccess: refresh });
  const rotate = useMutation({ mutationFn: () => unwrap(api.POST('/api/webhook-endpoints/{id}/rotate-secret', path)), onSuccess: (r) => (onSecret(r.secret), refresh()) });
  const remove = useMutation({ mutationFn: () => unwrap(api.DELETE('/api/webhook-endpoints/{id}', path)), onSuccess: onDeleted });
  const replay = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/webhook-deliveries/{id}/replay', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['webhook-deliveries', ep.id] }),
  });
  return (
    <Card withBorder aria-label={`Endpoint ${ep.url}`} component="section">
      <Title order={2} size="h4" mb="sm">
        Endpoint <Code fz="inherit">{ep.url}</Code>
      </Title>
      {ep.previousSecretExpiresAt && (
        <Text size="sm" c="dimmed" mb="sm">
          Deliveries are also signed with the previous secret until {formatTime(ep.previousSecretExpiresAt)}.
        </Text>
      )}
      <EventTypesField value={events} onChange={setEvents} error={fieldError(save.error, 'body.eventTypes')} />
      <Switch mt="md" label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
      <Group mt="md">
        <Button onClick={() => save.mutate()} loading={save.isPending}>
          Save changes
        </Button>
        <Button variant="default" onClick={() => rotate.mutate()} loading={rotate.isPending}>
          Rotate secret
        </Button>
        <Button color="red" variant={confirmDelete ? 'filled' : 'outline'} onClick={() => (confirmDelete ? remove.mutate() : setConfirmDelete(true))} loading={remove.isPending}>
          {confirmDelete ? 'Confirm delete' : 'Delete endpoint'}
        </Button>
        {save.isSuccess && (
          <Text size="sm" c="green.9" role="status">
            Saved.
          </Text>
        )}
      </Group>
      <FormError error={save.error} />
      {(rotate.error ?? remove.error ?? replay.error) && (
        <Alert color="red" mt="sm" role="alert">
          {(rotate.error ?? remove.error ?? replay.error)!.message}
        </Alert>
      )}
      <Title order={3} size="h5" mt="lg" mb="xs">
        Deliveries
      </Title>
      {deliveries.isError && <Alert color="red">{deliveries.error.message}</Alert>}
      {deliveries.data && !deliveries.data.deliveries.length && <Text c="dimmed">No deliveries yet.</Text>}
      {!!deliveries.data?.deliveries.length && (
        <Table.ScrollContainer minWidth={800}>
          <Table aria-label="Deliveries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Created</Table.Th>
                <Table.Th>Event</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>HTTP</Table.Th>
                <Table.Th>Latency</Table.Th>
                <Table.Th>Response</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.data.deliveries.map((d) => (
                <DeliveryRow key={d.id} d={d} replaying={replay.isPending && replay.variables === d.id} onReplay={() => replay.mutate(d.id)} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

function DeliveryRow({ d, replaying, onReplay }: { d: Delivery; replaying: boolean; onReplay: () => void }) {
  const last = d.log.at(-1);
  return (
    <Table.Tr data-testid="webhook-delivery-row">
      <Table.Td>{formatTime(d.createdAt)}</Table.Td>
      <Table.Td>
        {d.type} <Text span size="xs" c="dimmed">#{d.sequence}</Text>
      </Table.Td>
      <Table.Td>
        <Badge color={STATUS_COLOR[d.status]} variant="light">
          {d.status}
        </Badge>
      </Table.Td>
      <Table.Td>{d.attempts}</Table.Td>
      <Table.Td>{d.lastStatusCode ?? '—'}</Table.Td>
      <Table.Td>{last ? `${last.latencyMs} ms` : '—'}</Table.Td>
      <Table.Td>
        <Code style={{ wordBreak: 'break-all' }}>{last?.responseExcerpt ?? last?.error ?? d.lastError ?? '—'}</Code>
      </Table.Td>
      <Table.Td>
        <Button size="xs" variant="default" loading={replaying} onClick={onReplay} aria-label={`Replay delivery ${d.id}`}>
          Replay
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}
