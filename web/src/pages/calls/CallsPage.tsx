import { Alert, Anchor, Badge, Button, Group, Select, SimpleGrid, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, ApiFailure, fieldError, unwrap } from '../../api/client';
import { formatDuration, formatTime } from '../../lib/format';
import { apiQuery, DIRECTIONS, DISPOSITIONS, filtersFromParams, paramsFromFilters, STATUSES, type FilterKey, type Filters } from './call-filters';

const PAGE = 25;
const CSAT = ['1', '2', '3', '4', '5'];

/**
 * Calls: filters (date range, agent, direction, status, disposition, language, CSAT range, campaign, transcript text) kept in the
 * URL, the matching calls newest first with "Load more" (the API's keyset `nextCursor`), and a CSV export link with
 * the same filters. The API validates the filters; its 400 issues show next to the fields.
 */
export default function CallsPage() {
  const [params, setParams] = useSearchParams();
  const applied = filtersFromParams(params);
  const [draft, setDraft] = useState<Filters>(applied);
  const agents = useQuery({ queryKey: ['agents', 'all'], queryFn: () => unwrap(api.GET('/api/agents', { params: { query: { includeArchived: 'true' } } })) });
  const calls = useInfiniteQuery({
    queryKey: ['calls', applied],
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/calls', { params: { query: { ...apiQuery(applied), limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const set = (k: FilterKey) => (v: string | null) => setDraft((d) => ({ ...d, [k]: v ?? '' }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(paramsFromFilters(draft));
  };
  const reset = () => {
    setDraft({});
    setParams(new URLSearchParams());
  };
  const err = calls.error;
  const fe = (k: FilterKey) => fieldError(err, `query.${k}`);
  const rows = calls.data?.pages.flatMap((p) => p.calls) ?? [];
  const csv = `/api/calls.csv${paramsFromFilters(applied).size ? `?${paramsFromFilters(applied)}` : ''}`;
  const agentOptions = (agents.data?.agents ?? []).map((a) => ({ value: a.id, label: a.name === a.id ? a.id : `${a.name} (${a.id})` }));
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Calls
        </Title>
        <Button component="a" href={csv} variant="default" download>
          Export CSV
        </Button>
      </Group>
      <form onSubmit={submit} aria-label="Call filters">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }} mb="sm">
          <TextInput label="From (date)" type="date" value={draft.from ?? ''} onChange={(e) => set('from')(e.currentTarget.value)} error={fe('from')} />
          <TextInput label="To (date, exclusive)" type="date" value={draft.to ?? ''} onChange={(e) => set('to')(e.currentTarget.value)} error={fe('to')} />
          <Select label="Agent" data={agentOptions} value={draft.agentId ?? null} onChange={set('agentId')} clearable searchable error={fe('agentId')} />
          <Select label="Direction" data={DIRECTIONS} value={draft.direction ?? null} onChange={set('direction')} clearable error={fe('direction')} />
          <Select label="Status" data={STATUSES} value={draft.status ?? null} onChange={set('status')} clearable error={fe('status')} />
          <Select label="Disposition" data={DISPOSITIONS} value={draft.disposition ?? null} onChange={set('disposition')} clearable error={fe('disposition')} />
          <TextInput label="Language" placeholder="en" maxLength={2} value={draft.language ?? ''} onChange={(e) => set('language')(e.currentTarget.value)} error={fe('language')} />
          <Select label="CSAT at least" data={CSAT} value={draft.csatMin ?? null} onChange={set('csatMin')} clearable error={fe('csatMin')} />
          <Select label="CSAT at most" data={CSAT} value={draft.csatMax ?? null} onChange={set('csatMax')} clearable error={fe('csatMax')} />
          <TextInput label="Campaign id" value={draft.campaignId ?? ''} onChange={(e) => set('campaignId')(e.currentTarget.value)} error={fe('campaignId')} />
          <TextInput label="Transcript contains" placeholder='refund -"call back"' value={draft.q ?? ''} onChange={(e) => set('q')(e.currentTarget.value)} error={fe('q')} />
        </SimpleGrid>
        <Group mb="md">
          <Button type="submit">Apply filters</Button>
          <Button variant="subtle" onClick={reset}>
            Clear
          </Button>
        </Group>
      </form>
      {err && !(err instanceof ApiFailure && err.issues.length) && (
        <Alert color="red" title="Could not load calls" mb="md">
          {err.message}
        </Alert>
      )}
      <Table.ScrollContainer minWidth={900}>
        <Table striped highlightOnHover aria-label="Calls">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Direction</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>To</Table.Th>
              <Table.Th>Agent</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Duration</Table.Th>
              <Table.Th>Language</Table.Th>
              <Table.Th>CSAT</Table.Th>
              <Table.Th>Outcome</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((c) => (
              <Table.Tr key={c.callSid}>
                <Table.Td>
                  <Anchor component={Link} to={`/calls/${encodeURIComponent(c.callSid)}`}>
                    {formatTime(c.startedAt)}
                  </Anchor>
                </Table.Td>
                <Table.Td>{c.direction}</Table.Td>
                <Table.Td>{c.from}</Table.Td>
                <Table.Td>{c.to}</Table.Td>
                <Table.Td>{c.agentId}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={c.status === 'completed' ? 'green' : c.status === 'in-progress' ? 'blue' : 'gray'}>
                    {c.status}
                  </Badge>
                </Table.Td>
                <Table.Td>{formatDuration(c.durationMs)}</Table.Td>
                <Table.Td>{c.language ?? '—'}</Table.Td>
                <Table.Td>{c.csat ?? '—'}</Table.Td>
                <Table.Td>
                  {c.disposition && (
                    <Badge variant="light" color="gray" mr="xs">
                      {c.disposition.replace(/_/g, ' ')}
                    </Badge>
                  )}
                  {c.transfer ? `transferred to ${c.transfer.target}` : (c.endReason ?? (c.endedAt ? 'caller hung up' : 'live'))}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {calls.isSuccess && rows.length === 0 && (
        <Text c="dimmed" mt="md">
          No calls match these filters.
        </Text>
      )}
      <Group mt="md">
        {calls.hasNextPage && (
          <Button variant="default" onClick={() => calls.fetchNextPage()} loading={calls.isFetchingNextPage}>
            Load more
          </Button>
        )}
        {calls.isPending && <Text>Loading calls…</Text>}
      </Group>
    </>
  );
}
