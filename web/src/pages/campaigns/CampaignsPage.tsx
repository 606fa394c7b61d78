import { Alert, Anchor, Badge, Button, Group, Progress, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { PageLoader } from '../../app/PageLoader';
import { Can } from '../../auth/Can';
import { finishedPercent, STATE_COLOR, useCampaigns, type Campaign } from './campaign-api';

/** Poll interval of a running campaign's progress (ms). */
const RUNNING_POLL_MS = 5_000;

/** A row's progress bar: finished contacts / all, from GET /api/campaigns/:id (polled while running). */
function CampaignProgressCell({ c }: { c: Campaign }) {
  const q = useQuery({
    queryKey: ['campaigns', c.id],
    queryFn: () => unwrap(api.GET('/api/campaigns/{id}', { params: { path: { id: c.id } } })),
    refetchInterval: c.state === 'running' ? RUNNING_POLL_MS : false,
  });
  if (!q.data) return <Text size="sm" c="dimmed">…</Text>;
  const pct = finishedPercent(q.data.counts);
  return (
    <Group gap="xs" wrap="nowrap">
      <Progress value={pct} w={140} aria-label={`${c.name}: ${pct}% of contacts finished`} />
      <Text size="sm">
        {pct}% of {q.data.funnel.contacts}
      </Text>
    </Group>
  );
}

/** Campaigns: every campaign, newest first, with its state and a progress bar; supervisors see "New campaign". */
export default function CampaignsPage() {
  const q = useCampaigns();
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Campaigns
        </Title>
        <Can role="supervisor">
          <Button component={Link} to="/campaigns/new">
            New campaign
          </Button>
        </Can>
      </Group>
      {q.isPending && <PageLoader />}
      {q.isError && <Alert color="red">{q.error.message}</Alert>}
      {q.data && q.data.length === 0 && <Text c="dimmed">No campaigns yet.</Text>}
      {q.data && q.data.length > 0 && (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Agent</Table.Th>
              <Table.Th>Progress</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/campaigns/${c.id}`}>
                    {c.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Badge color={STATE_COLOR[c.state]} variant="light">
                    {c.state}
                  </Badge>
                </Table.Td>
                <Table.Td>{c.agentId}</Table.Td>
                <Table.Td>
                  <CampaignProgressCell c={c} />
                </Table.Td>
                <Table.Td>{new Date(c.createdAt).toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
