import { ActionIcon, Alert, Badge, Button, Card, FileInput, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiFailure, fieldError, unwrap, type Schema } from '../../api/client';
import { uploadForm } from '../../api/upload';
import { Can } from '../../auth/Can';
import { useCan } from '../../auth/session';
import { formatTime } from '../../lib/format';

type Entry = Schema<'DncEntry'>;
type ImportResult = { added: number; alreadyListed: number; rejected: Array<{ line: number; reason: string }>; rejectedCount: number };

/**
 * The do-not-call list: look a number up (the API normalises it), add one with a reason, import a CSV with a `phone`
 * column (counts and rejected lines shown), browse the list page by page, and remove a number (admin only).
 */
export default function DncPage() {
  const canRemove = useCan('admin');
  const qc = useQueryClient();
  const [lookup, setLookup] = useState('');
  const [found, setFound] = useState<{ entry: Entry | null; number: string } | null>(null);
  const [draft, setDraft] = useState({ number: '', reason: '' });
  const [file, setFile] = useState<File | null>(null);
  const list = useInfiniteQuery({
    queryKey: ['dnc'],
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/dnc', { params: { query: { limit: 100, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['dnc'] });
  const search = useMutation({
    mutationFn: async () => {
      try {
        return { entry: (await unwrap(api.GET('/api/dnc/{number}', { params: { path: { number: lookup.trim() } } }))).entry, number: lookup.trim() };
      } catch (err) {
        if (err instanceof ApiFailure && err.status === 404) return { entry: null, number: lookup.trim() };
        throw err;
      }
    },
    onSuccess: setFound,
  });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/dnc', { body: { number: draft.number, ...(draft.reason ? { reason: draft.reason } : {}) } })),
    onSuccess: () => {
      setDraft({ number: '', reason: '' });
      return refresh();
    },
  });
  const importCsv = useMutation({
    mutationFn: () => {
      const form = new FormData();
      form.append('file', file!);
      return uploadForm<ImportResult>('/api/dnc/import', form, () => undefined);
    },
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (number: string) => unwrap(api.DELETE('/api/dnc/{number}', { params: { path: { number } } })),
    onSuccess: () => {
      setFound(null);
      return refresh();
    },
  });
  const entries = list.data?.pages.flatMap((p) => p.entries) ?? [];
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    search.mutate();
  };
  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <Stack>
      <Title order={1} size="h2">
        DNC list
      </Title>
      <Card withBorder>
        <form onSubmit={onSearch} aria-label="Look up a number">
          <Group align="flex-end">
            <TextInput label="Look up a number" placeholder="+1 415 555 0123" value={lookup} onChange={(e) => setLookup(e.currentTarget.value)} error={fieldError(search.error, 'params.number')} />
            <Button type="submit" variant="default" loading={search.isPending}>
              Search
            </Button>
          </Group>
        </form>
        {search.isError && !fieldError(search.error, 'params.number') && <Text c="red">{search.error.message}</Text>}
        {found && (
          <Text mt="sm" role="status">
            {found.entry ? `${found.entry.number} is on the list (${found.entry.source}${found.entry.reason ? `: ${found.entry.reason}` : ''}).` : `${found.number} is not on the list.`}
          </Text>
        )}
      </Card>
      <Can role="supervisor">
        <Card withBorder>
          <form onSubmit={onAdd} aria-label="Add a number to the DNC list">
            <Group align="flex-start">
              <TextInput label="Number" required value={draft.number} onChange={(e) => setDraft({ ...draft, number: e.currentTarget.value })} error={fieldError(add.error, 'body.number')} />
              <TextInput label="Reason" value={draft.reason} onChange={(e) => setDraft({ ...draft, reason: e.currentTarget.value })} error={fieldError(add.error, 'body.reason')} />
              <Button type="submit" mt={25} loading={add.isPending}>
                Add
              </Button>
            </Group>
          </form>
          <Group align="flex-end" mt="md">
            <FileInput label="Import a CSV (a phone column)" accept=".csv,text/csv" value={file} onChange={setFile} clearable w={320} />
            <Button variant="default" disabled={!file} loading={importCsv.isPending} onClick={() => importCsv.mutate()}>
              Import
            </Button>
          </Group>
          {importCsv.isError && <Text c="red">{importCsv.error.message}</Text>}
          {importCsv.data && (
            <Text mt="sm" role="status">
              Added {importCsv.data.added}, already listed {importCsv.data.alreadyListed}, rejected {importCsv.data.rejectedCount}
              {importCsv.data.rejected.slice(0, 10).map((r) => (
                <Text key={r.line} size="sm" c="red" component="span" display="block">
                  line {r.line}: {r.reason}
                </Text>
              ))}
            </Text>
          )}
        </Card>
      </Can>
      {remove.isError && <Alert color="red">{remove.error.message}</Alert>}
      {list.isError && <Alert color="red">{list.error.message}</Alert>}
      <Table aria-label="Do-not-call numbers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Number</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Listed</Table.Th>
            {canRemove && <Table.Th>Actions</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((e) => (
            <Table.Tr key={e.number}>
              <Table.Td>{e.number}</Table.Td>
              <Table.Td>
                <Badge color="gray">{e.source}</Badge>
              </Table.Td>
              <Table.Td>{e.reason ?? '—'}</Table.Td>
              <Table.Td>{formatTime(e.createdAt)}</Table.Td>
              {canRemove && (
                <Table.Td>
                  <ActionIcon variant="subtle" color="red" aria-label={`Remove ${e.number}`} onClick={() => remove.mutate(e.number)}>
                    ✕
                  </ActionIcon>
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {list.isSuccess && entries.length === 0 && <Text c="dimmed">The list is empty.</Text>}
      {list.hasNextPage && (
        <Button variant="default" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </Stack>
  );
}
