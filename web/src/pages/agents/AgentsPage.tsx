import { Alert, Anchor, Badge, Button, Group, Switch, Table, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { PageLoader } from '../../app/PageLoader';
import { Can } from '../../auth/Can';

/** Agents: the list (default first; archived ones on request), each opening its editor; "New agent" for supervisors. */
export default function AgentsPage() {
  const [archived, setArchived] = useState(false);
  const q = useQuery({ queryKey: ['agents', archived ? 'all' : 'active'], queryFn: () => unwrap(api.GET('/api/agents', { params: { query: { includeArchived: archived ? 'true' : 'false' } } })) });
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1} size="h2">
          Agents
        </Title>
        <Group>
          <Switch label="Show archived" checked={archived} onChange={(e) => setArchived(e.currentTarget.checked)} />
          <Can role="supervisor">
            <Button component={Link} to="/agents/new">
              New agent
            </Button>
          </Can>
        </Group>
      </Group>
      {q.isPending && <PageLoader />}
      {q.isError && (
        <Alert color="red" title="Could not load agents">
          {q.error.message}
        </Alert>
      )}
      {q.data && (
        <Table striped aria-label="Agents">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Id</Table.Th>
              <Table.Th>Languages</Table.Th>
              <Table.Th>Handoff number</Table.Th>
              <Table.Th>Tools</Table.Th>
              <Table.Th>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data.agents.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/agents/${encodeURIComponent(a.id)}`}>
                    {a.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{a.id}</Table.Td>
                <Table.Td>{a.languages.join(', ')}</Table.Td>
                <Table.Td>{a.handoffNumber ?? '—'}</Table.Td>
                <Table.Td>{a.tools.length}</Table.Td>
                <Table.Td>
                  {a.isDefault && <Badge mr={4}>default</Badge>}
                  {a.archivedAt && (
                    <Badge color="gray" variant="outline">
                      archived
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
