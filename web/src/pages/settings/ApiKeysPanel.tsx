import { Alert, Badge, Button, Code, CopyButton, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../app/FormError';
import { api, fieldError, unwrap, type Schema } from '../../api/client';
import { formatTime } from '../../lib/format';

type Role = Schema<'Role'>;

/**
 * API keys (admin): create one (its secret is shown once, here, and kept only in this component's state until the
 * page changes), list them with prefix, role and last use, revoke.
 */
export function ApiKeysPanel() {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => unwrap(api.GET('/api/api-keys')) });
  const [draft, setDraft] = useState<{ name: string; role: Role }>({ name: '', role: 'viewer' });
  const [created, setCreated] = useState<Schema<'CreatedApiKey'> | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ['api-keys'] });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/api-keys', { body: draft })),
    onSuccess: (k) => {
      setCreated(k);
      setDraft({ name: '', role: 'viewer' });
      return refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/api-keys/{id}', { params: { path: { id } } })),
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <form onSubmit={submit} aria-label="Create an API key">
        <Group align="flex-start" mb="md">
          <TextInput label="Name" required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.currentTarget.value })} error={fieldError(create.error, 'body.name')} />
          <Select label="Role" data={['viewer', 'supervisor', 'admin']} value={draft.role} allowDeselect={false} onChange={(v) => setDraft({ ...draft, role: (v ?? 'viewer') as Role })} />
          <Button type="submit" mt={25} loading={create.isPending}>
            Create key
          </Button>
        </Group>
        <FormError error={create.error} />
      </form>
      {created && (
        <Alert color="green" title={`Key ${created.name} created`} mb="md" withCloseButton onClose={() => setCreated(null)} closeButtonLabel="Dismiss">
          <Text size="sm" mb="xs">
            Copy it now: it is shown only once.
          </Text>
          <Group>
            <Code data-testid="new-api-key">{created.key}</Code>
            <CopyButton value={created.key}>
              {({ copied, copy }) => (
                <Button size="xs" variant="default" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Alert>
      )}
      {revoke.isError && (
        <Alert color="red" mb="md">
          {revoke.error.message}
        </Alert>
      )}
      {keys.isError && <Alert color="red">{keys.error.message}</Alert>}
      <Table aria-label="API keys">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Prefix</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Created by</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(keys.data?.apiKeys ?? []).map((k) => (
            <Table.Tr key={k.id}>
              <Table.Td>{k.name}</Table.Td>
              <Table.Td>
                <Code>{k.prefix}…</Code>
              </Table.Td>
              <Table.Td>{k.role}</Table.Td>
              <Table.Td>{k.createdBy.label}</Table.Td>
              <Table.Td>{formatTime(k.lastUsedAt)}</Table.Td>
              <Table.Td>
                {k.revokedAt ? (
                  <Badge color="gray">revoked</Badge>
                ) : (
                  <Button size="xs" variant="outline" color="red" loading={revoke.isPending && revoke.variables === k.id} onClick={() => revoke.mutate(k.id)}>
                    Revoke
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </>
  );
}
