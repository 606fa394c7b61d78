import { Alert, Anchor, Badge, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap, type Schema } from '../../api/client';
import { PageLoader } from '../../app/PageLoader';
import { Section } from '../../app/Section';
import { formatDuration, formatTime } from '../../lib/format';
import { LatencyWaterfall } from './LatencyWaterfall';
import { RecordingPlayer } from './RecordingPlayer';
import { Transcript } from './Transcript';

type Detail = Schema<'CallDetail'>;

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text>{children}</Text>
    </div>
  );
}

function Csat({ csat }: { csat: Detail['csat'] }) {
  if (!csat) return <Text c="dimmed">Not scored yet.</Text>;
  return (
    <>
      <Group gap="lg" align="baseline">
        <Text size="xl" fw={700}>
          {csat.score} / 5
        </Text>
        <Text size="lg" aria-label="Stated CSAT">
          {csat.statedScore != null ? `Stated: ${csat.statedScore}/5` : <Text span c="dimmed">No stated score</Text>}
        </Text>
      </Group>
      <Text size="sm" c="dimmed" mb="xs">
        predicted, method {csat.method}
      </Text>
      {csat.components && (
        <Table aria-label="CSAT components">
          <Table.Tbody>
            {Object.entries(csat.components).map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Td>{k}</Table.Td>
                <Table.Td ta="right">{v > 0 ? `+${v}` : v}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}

/** Badge colour per disposition: green handled, orange needs a follow-up, gray never connected. */
const DISPOSITION_COLORS: Record<NonNullable<Detail['analysis']>['disposition'], string> = {
  resolved: 'green',
  callback_booked: 'teal',
  transferred: 'blue',
  unresolved: 'orange',
  wrong_number: 'orange',
  opted_out: 'red',
  voicemail: 'grape',
  abandoned: 'gray',
  no_answer: 'gray',
  busy: 'gray',
  failed: 'red',
};

/** Post-call analysis: disposition badge, summary and the agent's extracted fields. */
function Analysis({ analysis }: { analysis: Detail['analysis'] }) {
  if (!analysis) return <Text c="dimmed">Not analysed yet.</Text>;
  const fields = Object.entries(analysis.fields);
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Badge color={DISPOSITION_COLORS[analysis.disposition]} variant="light" aria-label="Disposition">
          {analysis.disposition.replace(/_/g, ' ')}
        </Badge>
        <Text size="sm" c="dimmed">
          {analysis.method} · {formatTime(analysis.analyzedAt)}
        </Text>
      </Group>
      <Text aria-label="Summary">{analysis.summary}</Text>
      {fields.length ? (
        <Table aria-label="Extracted fields">
          <Table.Tbody>
            {fields.map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Td>{k}</Table.Td>
                <Table.Td>{String(v)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Text size="sm" c="dimmed">
          No extracted fields.
        </Text>
      )}
    </Stack>
  );
}

/**
 * One call (`GET /api/calls/:callSid`): facts, the post-call analysis (disposition, summary, extracted fields), CSAT
 * with its formula components, CRM delivery state, the transcript timeline, the per-turn latency waterfall, the call's
 * events and its recording (a two-channel waveform with playback).
 */
export default function CallPage() {
  const { callSid = '' } = useParams();
  const q = useQuery({ queryKey: ['call', callSid], queryFn: () => unwrap(api.GET('/api/calls/{callSid}', { params: { path: { callSid } } })) });
  if (q.isPending) return <PageLoader />;
  if (q.isError)
    return (
      <Alert color="red" title="Could not load the call">
        {q.error.message}
      </Alert>
    );
  const c = q.data;
  const durationMs = c.endedAt ? Date.parse(c.endedAt) - Date.parse(c.startedAt) : null;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Call <Code fz="inherit">{c.callSid}</Code>
        </Title>
        <Anchor component={Link} to="/calls">
          Back to calls
        </Anchor>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <Section title="Call">
          <SimpleGrid cols={2} spacing="xs">
            <Fact label="Direction">{c.direction}</Fact>
            <Fact label="Status">{c.status}</Fact>
            <Fact label="From">{c.from}</Fact>
            <Fact label="To">{c.to}</Fact>
            <Fact label="Started">{formatTime(c.startedAt)}</Fact>
            <Fact label="Duration">{formatDuration(durationMs)}</Fact>
            <Fact label="Language">{c.language ?? '—'}</Fact>
            <Fact label="Intent">{c.intent ?? '—'}</Fact>
          </SimpleGrid>
        </Section>
        <Section title="CSAT">
          <Csat csat={c.csat} />
        </Section>
        <Section title="CRM delivery">
          <Badge color={c.crmSync.status === 'delivered' ? 'green' : c.crmSync.status === 'failed' ? 'red' : 'gray'} variant="light">
            {c.crmSync.status}
          </Badge>
          <Text size="sm" mt="xs">
            {c.crmSync.attempts} attempt{c.crmSync.attempts === 1 ? '' : 's'}
          </Text>
        </Section>
      </SimpleGrid>
      <Section title="Analysis">
        <Analysis analysis={c.analysis} />
      </Section>
      <Section title="Recording">
        {c.recordingUrl ? <RecordingPlayer url={c.recordingUrl} /> : <Text c="dimmed">No recording.</Text>}
      </Section>
      <Section title="Transcript">
        <Transcript turns={c.turns} />
      </Section>
      <Section title="Latency per turn">
        <LatencyWaterfall turns={c.turns} />
      </Section>
      <Section title="Events">
        {c.events.length ? (
          <Table.ScrollContainer minWidth={600}>
            <Table aria-label="Events">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Details</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {c.events.map((e, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{formatTime(e.at)}</Table.Td>
                    <Table.Td>{e.type}</Table.Td>
                    <Table.Td>
                      <Code>{JSON.stringify(e.payload)}</Code>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : (
          <Text c="dimmed">No events.</Text>
        )}
      </Section>
    </Stack>
  );
}
