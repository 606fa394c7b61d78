import { Alert, Anchor, Button, Group, Stack, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { CreateOutcome } from './create-campaign';

/** After "Create": accepted / merged / suppressed counts and every rejected row (line, reason) of the server. */
export function ImportResult({ outcome }: { outcome: CreateOutcome }) {
  const { campaign, imported, started } = outcome;
  return (
    <Stack maw={720}>
      <Alert color={imported.rejectedCount ? 'red' : 'blue'} title={`Campaign "${campaign.name}" created${started ? ' and started' : ' as a draft'}`}>
        <Text size="sm" data-testid="import-summary">
          {imported.accepted} contacts accepted, {imported.rejectedCount} rejected, {imported.duplicates} duplicates merged, {imported.suppressed} on the DNC list.
        </Text>
      </Alert>
      {imported.rejected.length > 0 && (
        <Table aria-label="Rejected rows" withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Line</Table.Th>
              <Table.Th>Reason</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {imported.rejected.map((r) => (
              <Table.Tr key={r.line}>
                <Table.Td>{r.line}</Table.Td>
                <Table.Td>{r.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
          {imported.rejectedCount > imported.rejected.length && <Table.Caption>The first {imported.rejected.length} of {imported.rejectedCount}.</Table.Caption>}
        </Table>
      )}
      <Group>
        <Button component={Link} to={`/campaigns/${campaign.id}`}>
          Open the campaign
        </Button>
        <Anchor component={Link} to="/campaigns">
          All campaigns
        </Anchor>
      </Group>
    </Stack>
  );
}
