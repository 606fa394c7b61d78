import { ActionIcon, Alert, Button, Group, Select, Table, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../../app/FormError';
import { api, fieldError, unwrap } from '../../api/client';
import { PageLoader } from '../../app/PageLoader';
import { Can } from '../../auth/Can';
import { useCan } from '../../auth/session';

/**
 * Phone numbers: each configured number with the agent answering it and a label; supervisors add numbers, change
 * the agent of one in place and remove them. Validation (E.164, unknown or archived agent, duplicate) is the API's.
 */
export default function PhoneNumbersPage() {
  const canEdit = useCan('supervisor');
  const qc = useQueryClient();
  const numbers = useQuery({ queryKey: ['phone-numbers'], queryFn: () => unwrap(api.GET('/api/phone-numbers')) });
  const agents = useQuery({ queryKey: ['agents', 'active'], queryFn: () => unwrap(api.GET('/api/agents', { params: { query: { includeArchived: 'false' } } })) });
  const [draft, setDraft] = useState({ number: '', agentId: '', label: '' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['phone-numbers'] });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/phone-numbers', { body: { number: draft.number, agentId: draft.agentId, ...(draft.label ? { label: draft.label } : {}) } })),
    onSuccess: () => {
      setDraft({ number: '', agentId: '', label: '' });
      return refresh();
    },
  });
  const reassign = useMutation({
    mutationFn: (v: { number: string; agentId: string }) => unwrap(api.PATCH('/api/phone-numbers/{number}', { params: { path: { number: v.number } }, body: { agentId: v.agentId } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (number: string) => unwrap(api.DELETE('/api/phone-numbers/{number}', { params: { path: { number } } })),
    onSettled: refresh,
  });
  const agentOptions = (agents.data?.agents ?? []).map((a) => ({ value: a.id, label: a.name }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const failure = reassign.error ?? remove.error;
  return (
    <>
      <Title order={1} size="h2" mb="md">
        Phone numbers
      </Title>
      <Can role="supervisor">
        <form onSubmit={submit} aria-label="Add a phone number">
          <Group align="flex-start" mb="md">
            <TextInput label="Number" placeholder="+1 415 555 0100" required value={draft.number} onChange={(e) => setDraft({ ...draft, number: e.currentTarget.value })} error={fieldError(add.error, 'body.number')} />
            <Select label="Agent" required data={agentOptions} value={draft.agentId || null} onChange={(v) => setDraft({ ...draft, agentId: v ?? '' })} error={fieldError(add.error, 'body.agentId')} />
            <TextInput label="Label" value={draft.label} onChange={(e) => setDraft({ ...draft, label: e.currentTarget.value })} error={fieldError(add.error, 'body.label')} />
            <Button type="submit" mt={25} loading={add.isPending}>
              Add number
            </Button>
          </Group>
          <FormError error={add.error} />
        </form>
      </Can>
      {failure && (
        <Alert color="red" mb="md">
          {failure.message}
        </Alert>
      )}
      {numbers.isPending && <PageLoader />}
      {numbers.isError && <Alert color="red">{numbers.error.message}</Alert>}
      {numbers.data && (
        <Table aria-label="Phone numbers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Number</Table.Th>
              <Table.Th>Agent</Table.Th>
              <Table.Th>Label</Table.Th>
              {canEdit && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {numbers.data.phoneNumbers.map((n) => (
              <Table.Tr key={n.number}>
                <Table.Td>{n.number}</Table.Td>
                <Table.Td>
                  {canEdit ? (
                    <Select aria-label={`Agent of ${n.number}`} data={agentOptions} value={n.agentId} onChange={(v) => v && v !== n.agentId && reassign.mutate({ number: n.number, agentId: v })} />
                  ) : (
                    n.agentId
                  )}
                </Table.Td>
                <Table.Td>{n.label ?? '—'}</Table.Td>
                {canEdit && (
                  <Table.Td>
                    <ActionIcon variant="subtle" color="red" aria-label={`Remove ${n.number}`} onClick={() => remove.mutate(n.number)}>
                      ✕
                    </ActionIcon>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
