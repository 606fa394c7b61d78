import { Alert, Badge, Button, Group, Switch, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../app/FormError';
import { api, fieldError, unwrap, type Schema } from '../../api/client';
import { formatTime } from '../../lib/format';

type Integration = Schema<'CrmIntegration'>;
type Check = Schema<'ConnectionCheck'>;

/**
 * Native CRM integrations (admin): add HubSpot with a private app token (write-only: the server stores it encrypted
 * and only says `credentials set`), test the connection (the server's message is shown as is), enable/disable, delete.
 */
export function IntegrationsPanel() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['integrations'], queryFn: () => unwrap(api.GET('/api/integrations')) });
  const [draft, setDraft] = useState({ name: 'HubSpot', accessToken: '' });
  const [checks, setChecks] = useState<Record<string, Check>>({});
  const refresh = () => qc.invalidateQueries({ queryKey: ['integrations'] });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/integrations', { body: { kind: 'hubspot', name: draft.name, credentials: { accessToken: draft.accessToken } } })),
    onSuccess: () => {
      setDraft({ name: 'HubSpot', accessToken: '' });
      return refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (i: Integration) => unwrap(api.PATCH('/api/integrations/{id}', { params: { path: { id: i.id } }, body: { enabled: !i.enabled } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/integrations/{id}', { params: { path: { id } } })),
    onSettled: refresh,
  });
  const test = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/integrations/{id}/test', { params: { path: { id } } })),
    onSuccess: (check, id) => {
      setChecks((c) => ({ ...c, [id]: check }));
      return refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const error = toggle.error ?? remove.error ?? test.error;
  return (
    <>
      <Text size="sm" c="dimmed" mb="md">
        Every completed call is logged to each enabled integration (HubSpot: a call engagement on the contact found or created by phone).
      </Text>
      <form onSubmit={submit} aria-label="Add a HubSpot integration">
        <Group align="flex-start" mb="md">
          <TextInput label="Name" required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.currentTarget.value })} error={fieldError(create.error, 'body.name')} />
          <TextInput
            label="HubSpot private app token"
            type="password"
            autoComplete="off"
            required
            value={draft.accessToken}
            onChange={(e) => setDraft({ ...draft, accessToken: e.currentTarget.value })}
            error={fieldError(create.error, 'body.credentials.accessToken')}
          />
          <Button type="submit" mt={25} loading={create.isPending}>
            Add HubSpot
          </Button>
        </Group>
        <FormError error={create.error} />
      </form>
      {error && (
        <Alert color="red" mb="md">
          {error.message}
        </Alert>
      )}
      {list.isError && <Alert color="red">{list.error.message}</Alert>}
      <Table aria-label="CRM integrations">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>CRM</Table.Th>
            <Table.Th>Credentials</Table.Th>
            <Table.Th>Enabled</Table.Th>
            <Table.Th>Last test</Table.Th>
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data?.integrations ?? []).map((i) => {
            const check = checks[i.id] ?? i.lastTestResult;
            return (
              <Table.Tr key={i.id}>
                <Table.Td>{i.name}</Table.Td>
                <Table.Td>{i.kind === 'hubspot' ? 'HubSpot' : 'Salesforce'}</Table.Td>
                <Table.Td>{i.credentialsSet ? <Badge color="green">set</Badge> : <Badge color="gray">missing</Badge>}</Table.Td>
                <Table.Td>
                  <Switch aria-label={`Enable ${i.name}`} checked={i.enabled} onChange={() => toggle.mutate(i)} disabled={toggle.isPending && toggle.variables?.id === i.id} />
                </Table.Td>
                <Table.Td>
                  {check ? (
                    <Text size="sm" c={check.ok ? 'green' : 'red'} data-testid={`integration-check-${i.id}`}>
                      {check.message}
                    </Text>
                  ) : (
                    <Text size="sm" c="dimmed">
                      never tested
                    </Text>
                  )}
                  {i.lastTestAt && (
                    <Text size="xs" c="dimmed">
                      {formatTime(i.lastTestAt)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Group gap="xs">
                    <Button size="xs" variant="default" loading={test.isPending && test.variables === i.id} onClick={() => test.mutate(i.id)}>
                      Test connection
                    </Button>
                    <Button size="xs" variant="outline" color="red" loading={remove.isPending && remove.variables === i.id} onClick={() => remove.mutate(i.id)}>
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </>
  );
}
