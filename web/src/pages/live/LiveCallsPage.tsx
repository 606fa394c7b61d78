import { Alert, Badge, Group, SimpleGrid, Text, Title } from '@mantine/core';
import { LiveCallCard } from './LiveCallCard';
import { useLiveCalls } from './use-live-calls';

const STATUS_COLOR = { connecting: 'gray', live: 'green', reconnecting: 'yellow' } as const;

/**
 * Live calls: every call in progress on any server instance, updated over SSE (GET /api/live/events, fed through
 * Redis pub/sub), each with its streaming transcript and per-turn latency; supervisors can listen in, transfer or
 * hang up.
 */
export default function LiveCallsPage() {
  const { calls, status, error } = useLiveCalls();
  return (
    <>
      <Group mb="md">
        <Title order={1} size="h2">
          Live calls
        </Title>
        <Badge color={STATUS_COLOR[status]} variant="light" data-testid="feed-status">
          {status}
        </Badge>
        <Text size="sm" aria-live="polite">
          {calls.size} in progress
        </Text>
      </Group>
      {error && (
        <Alert color="red" title="Could not load the live calls" mb="md">
          {error.message}
        </Alert>
      )}
      {calls.size === 0 && status === 'live' && <Text c="dimmed">No calls in progress.</Text>}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        {[...calls.values()].map((c) => (
          <LiveCallCard key={c.callSid} call={c} />
        ))}
      </SimpleGrid>
    </>
  );
}
