import { Alert, Anchor, Badge, Button, Card, Group, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { PageLoader } from '../../app/PageLoader';
import { Can } from '../../auth/Can';
import { CAMPAIGNS_KEY, CONTACT_STATES, finishedPercent, STATE_COLOR, type CampaignProgress, type CampaignState, type ContactState } from './campaign-api';

/** Poll interval while the campaign runs (ms): the funnel and counts move as the dialer works. */
const POLL_MS = 3_000;

type Action = 'start' | 'pause' | 'resume' | 'cancel';
/** Which actions a state allows (the server's transitions: draft → running ⇄ paused → completed | cancelled). */
const ACTIONS: Record<CampaignState, Action[]> = { draft: ['start', 'cancel'], running: ['pause', 'cancel'], paused: ['resume', 'cancel'], completed: [], cancelled: [] };
const ACTION_LABEL: Record<Action, string> = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign' };

const FUNNEL_STEPS: Array<[keyof CampaignProgress['funnel'], string]> = [
  ['contacts', 'Contacts'],
  ['dialed', 'Dialed'],
  ['answered', 'Answered'],
  ['human', 'Human'],
  ['conversation', 'Conversation'],
  ['transferred', 'Transferred'],
  ['completed', 'Completed'],
  ['voicemail', 'Voicemail'],
  ['optedOut', 'Opted out'],
];

/** The funnel as labelled bars, each a share of the contacts. */
function Funnel({ funnel }: { funnel: CampaignProgress['funnel'] }) {
  return (
    <Stack gap={6} data-testid="funnel">
      {FUNNEL_STEPS.map(([k, label]) => {
        const pct = funnel.contacts ? Math.round((funnel[k] / funnel.contacts) * 100) : 0;
        return (
          <Group key={k} gap="xs" wrap="nowrap">
            <Text size="sm" w={110}>
              {label}
            </Text>
            <Progress value={pct} w={240} aria-label={`${label}: ${funnel[k]}`} />
            <Text size="sm" data-testid={`funnel-${k}`}>
              {funnel[k]}
            </Text>
          </Group>
        );
      })}
    </Stack>
  );
}

/**
 * Contacts of the campaign in one state (or all): phone, name, state, attempts, last outcome, last call. Re-read
 * while the campaign runs and whenever its per-state counts change (`version`), so the last poll before the campaign
 * completes does not leave a contact shown in its earlier state.
 */
function ContactsTable({ id, state, running, version }: { id: string; state: ContactState | 'all'; running: boolean; version: string }) {
  const q = useQuery({
    queryKey: ['campaigns', id, 'contacts', state],
    queryFn: () => unwrap(api.GET('/api/campaigns/{id}/contacts', { params: { path: { id }, query: { limit: 100, ...(state === 'all' ? {} : { state }) } } })),
    refetchInterval: running ? POLL_MS : false,
  });
  const { refetch } = q;
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    void refetch();
  }, [version, refetch]);
  if (q.isError) return <Alert color="red">{q.error.message}</Alert>;
  if (!q.data) return <PageLoader />;
  if (!q.data.contacts.length) return <Text c="dimmed">No contacts in this state.</Text>;
  return (
    <Table striped aria-label="Contacts">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Phone</Table.Th>
          <Table.Th>Name</Table.Th>
          <Table.Th>State</Table.Th>
          <Table.Th>Attempts</Table.Th>
          <Table.Th>Last outcome</Table.Th>
          <Table.Th>Next attempt</Table.Th>
          <Table.Th>Last call</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {q.data.contacts.map((c) => (
          <Table.Tr key={c.id}>
            <Table.Td>{c.phone}</Table.Td>
            <Table.Td>{c.name ?? ''}</Table.Td>
            <Table.Td>{c.state}</Table.Td>
            <Table.Td>{c.attempts}</Table.Td>
            <Table.Td>{c.lastOutcome ?? ''}</Table.Td>
            <Table.Td>{c.nextAttemptAt ? new Date(c.nextAttemptAt).toLocaleString() : ''}</Table.Td>
            <Table.Td>
              {c.lastCallSid && (
                <Anchor component={Link} to={`/calls/${c.lastCallSid}`}>
                  {c.lastCallSid.slice(0, 10)}…
                </Anchor>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
      {q.data.nextCursor && (
        <Table.Caption>The first 100 contacts; the CSV report has them all.</Table.Caption>
      )}
    </Table>
  );
}

/**
 * A campaign: state, progress (finished share, ETA), the funnel, counts per contact state (each opens the contacts
 * in that state), per-contact outcomes, the CSV report link, and — for supervisors and admins — the state actions
 * the current state allows. Polls GET /api/campaigns/:id every {@link POLL_MS} ms while running.
 */
export default function CampaignPage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const [state, setState] = useState<ContactState | 'all'>('all');
  const q = useQuery({
    queryKey: ['campaigns', id],
    queryFn: () => unwrap(api.GET('/api/campaigns/{id}', { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data?.state === 'running' ? POLL_MS : false),
  });
  const act = useMutation({
    mutationFn: (a: Action) => unwrap(api.POST(`/api/campaigns/{id}/${a}`, { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: CAMPAIGNS_KEY }),
  });
  if (q.isError) return <ApiErrorAlert error={q.error} title="Campaign not available" />;
  if (!q.data) return <PageLoader />;
  const c = q.data;
  const pct = finishedPercent(c.counts);
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={1} size="h2">
            {c.name}
          </Title>
          <Badge color={STATE_COLOR[c.state]} variant="light" data-testid="campaign-state">
            {c.state}
          </Badge>
        </Group>
        <Group>
          <Button component="a" variant="default" href={`/api/campaigns/${c.id}/report.csv`} download>
            CSV report
          </Button>
          <Can role="supervisor">
            {ACTIONS[c.state].map((a) => (
              <Button key={a} color={a === 'cancel' ? 'red' : undefined} variant={a === 'cancel' ? 'outline' : 'filled'} loading={act.isPending && act.variables === a} onClick={() => act.mutate(a)}>
                {ACTION_LABEL[a]}
              </Button>
            ))}
          </Can>
        </Group>
      </Group>
      <ApiErrorAlert error={act.error} />
      {c.pauseReason && (
        <Alert color="red" title="Paused by the system">
          {c.pauseReason}
        </Alert>
      )}
      <Group gap="xs">
        <Progress value={pct} w={320} size="lg" aria-label={`${pct}% of contacts finished`} />
        <Text size="sm">
          {pct}% finished · {c.attemptsUsed} attempts · agent {c.agentId}
          {c.state === 'running' && c.eta.remainingContacts > 0 && ` · about ${Math.ceil(c.eta.seconds / 60)} min of dialing left`}
        </Text>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Funnel
          </Title>
          <Funnel funnel={c.funnel} />
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Contacts per state
          </Title>
          <Table aria-label="Contacts per state">
            <Table.Tbody>
              {CONTACT_STATES.map((s) => (
                <Table.Tr key={s}>
                  <Table.Td>{s}</Table.Td>
                  <Table.Td data-testid={`count-${s}`}>{c.counts[s]}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      </SimpleGrid>
      <Title order={2} size="h4">
        Contacts
      </Title>
      <SegmentedControl
        aria-label="Contact state"
        value={state}
        onChange={(v) => setState(v as ContactState | 'all')}
        data={[{ value: 'all', label: 'All' }, ...CONTACT_STATES.map((s) => ({ value: s, label: `${s} (${c.counts[s]})` }))]}
      />
      <ContactsTable id={c.id} state={state} running={c.state === 'running'} version={`${c.state}:${CONTACT_STATES.map((s) => c.counts[s]).join(',')}`} />
    </Stack>
  );
}
