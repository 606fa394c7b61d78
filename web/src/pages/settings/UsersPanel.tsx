import { Alert, Badge, Button, Group, PasswordInput, Select, Switch, Table, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../app/FormError';
import { api, fieldError, unwrap, type Schema } from '../../api/client';
import { useMe } from '../../auth/session';
import { formatTime } from '../../lib/format';

type Role = Schema<'Role'>;
const ROLES: Role[] = ['viewer', 'supervisor', 'admin'];

/** Users and roles (admin): create a user (the API enforces the password policy), change a role, disable or enable. */
export function UsersPanel() {
  const me = useMe();
  const qc = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => unwrap(api.GET('/api/users')) });
  const [draft, setDraft] = useState<{ email: string; password: string; role: Role }>({ email: '', password: '', role: 'viewer' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['users'] });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/users', { body: draft })),
    onSuccess: () => {
      setDraft({ email: '', password: '', role: 'viewer' });
      return refresh();
    },
  });
  const update = useMutation({
    mutationFn: (v: { id: string; role?: Role; disabled?: boolean }) => unwrap(api.PATCH('/api/users/{id}', { params: { path: { id: v.id } }, body: { role: v.role, disabled: v.disabled } })),
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <form onSubmit={submit} aria-label="Create a user">
        <Group align="flex-start" mb="md">
          <TextInput label="Email" type="email" required value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.currentTarget.value })} error={fieldError(create.error, 'body.email')} />
          <PasswordInput label="Password" required autoComplete="new-password" value={draft.password} onChange={(e) => setDraft({ ...draft, password: e.currentTarget.value })} error={fieldError(create.error, 'body.password')} w={260} />
          <Select label="Role" data={ROLES} value={draft.role} onChange={(v) => setDraft({ ...draft, role: (v ?? 'viewer') as Role })} allowDeselect={false} />
          <Button type="submit" mt={25} loading={create.isPending}>
            Create user
          </Button>
        </Group>
        <FormError error={create.error} />
      </form>
      {update.isError && (
        <Alert color="red" mb="md">
          {update.error.message}
        </Alert>
      )}
      {users.isError && <Alert color="red">{users.error.message}</Alert>}
      <Table aria-label="Users">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Email</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Enabled</Table.Th>
            <Table.Th>Last login</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(users.data?.users ?? []).map((u) => {
            const self = me.user?.id === u.id;
            return (
              <Table.Tr key={u.id}>
                <Table.Td>
                  {u.email} {self && <Badge color="gray">you</Badge>}
                </Table.Td>
                <Table.Td>
                  <Select aria-label={`Role of ${u.email}`} data={ROLES} value={u.role} disabled={self} allowDeselect={false} onChange={(v) => v && v !== u.role && update.mutate({ id: u.id, role: v as Role })} />
                </Table.Td>
                <Table.Td>
                  <Switch aria-label={`${u.email} enabled`} checked={!u.disabled} disabled={self} onChange={(e) => update.mutate({ id: u.id, disabled: !e.currentTarget.checked })} />
                </Table.Td>
                <Table.Td>{formatTime(u.lastLoginAt)}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </>
  );
}
