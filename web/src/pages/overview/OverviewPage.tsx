import { Alert, Card, Group, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { fetchCsatAgreement, fetchOverview, type Overview } from '../../api/analytics';
import { PageLoader } from '../../app/PageLoader';
import { callsPerDay, latencyPerDay } from './overview-series';
import { UPlotChart } from './UPlotChart';

const RANGES = { '1': 'Today', '7': '7 days', '30': '30 days' } as const;
type Range = keyof typeof RANGES;
/** Refresh of the overview (ms): "live now" and today's counts move. */
const REFRESH_MS = 30_000;

/** [from, to) of a range: from midnight UTC `days - 1` days ago until now. */
function rangeOf(r: Range, now = new Date()): [Date, Date] {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (Number(r) - 1)));
  return [from, now];
}

function Kpi({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={`kpi-${label}`}>
        {value}
      </Text>
      {hint && <Text size="xs">{hint}</Text>}
    </Card>
  );
}

const pct = (n: number | null) => (n === null ? '—' : `${Math.round(n * 100)}%`);

/** CSAT scores 1–5 as bars (share of scored calls). */
function CsatDistribution({ csat }: { csat: Overview['csat'] }) {
  return (
    <Stack gap={4}>
      {(['5', '4', '3', '2', '1'] as const).map((s) => (
        <Group key={s} gap="xs" wrap="nowrap">
          <Text size="sm" w={20}>
            {s}
          </Text>
          <Progress value={csat.count ? (csat.distribution[s] / csat.count) * 100 : 0} w={200} aria-label={`CSAT ${s}: ${csat.distribution[s]} calls`} />
          <Text size="sm">{csat.distribution[s]}</Text>
        </Group>
      ))}
    </Stack>
  );
}

/** A two-column table (name, calls) with a caption. */
/** How the predicted CSAT agrees with callers' survey answers (GET /api/analytics/csat) over the same range. */
function CsatAgreementNote({ range }: { range: Range }) {
  const q = useQuery({ queryKey: ['analytics', 'csat', range], queryFn: () => fetchCsatAgreement(...rangeOf(range)), refetchInterval: REFRESH_MS });
  const a = q.data;
  if (!a) return null;
  return (
    <Text size="xs" mt="xs" data-testid="csat-agreement">
      {a.n
        ? `Vs. survey answers (${a.n} calls): mean error ${a.meanAbsoluteError?.toFixed(2)}, exact ${pct(a.exactRate)}, within 1 ${pct(a.withinOneRate)}`
        : 'No survey answers in this period.'}
    </Text>
  );
}

function CountTable({ caption, rows }: { caption: string; rows: Array<[string, number]> }) {
  return (
    <Table aria-label={caption}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{caption}</Table.Th>
          <Table.Th>Calls</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.length === 0 && (
          <Table.Tr>
            <Table.Td colSpan={2}>None yet.</Table.Td>
          </Table.Tr>
        )}
        {rows.map(([k, n]) => (
          <Table.Tr key={k}>
            <Table.Td>{k}</Table.Td>
            <Table.Td>{n}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/**
 * Overview (GET /api/analytics/overview): calls, cost, answered vs abandoned, containment, transfers, CSAT average
 * and distribution, calls per day and reply latency p50/p95 per stage per day (uPlot, loaded with this page's chunk
 * only), languages, top intents and calls live now. Refreshes every 30 s.
 */
export default function OverviewPage() {
  const [range, setRange] = useState<Range>('7');
  const q = useQuery({
    queryKey: ['analytics', 'overview', range],
    queryFn: () => fetchOverview(...rangeOf(range)),
    refetchInterval: REFRESH_MS,
  });
  const charts = useMemo(() => (q.data ? { calls: callsPerDay(q.data), latency: latencyPerDay(q.data) } : null), [q.data]);
  const o = q.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Overview
        </Title>
        <SegmentedControl aria-label="Period" value={range} onChange={(v) => setRange(v as Range)} data={Object.entries(RANGES).map(([value, label]) => ({ value, label }))} />
      </Group>
      {q.isError && <Alert color="red">{q.error.message}</Alert>}
      {!o && !q.isError && <PageLoader />}
      {o && charts && (
        <>
          <SimpleGrid cols={{ base: 2, md: 4, lg: 7 }}>
            <Kpi label="Calls" value={String(o.totals.calls)} />
            <Kpi label="Live now" value={String(o.liveNow)} />
            <Kpi label="Answered" value={String(o.totals.answered)} hint={`${o.totals.abandoned} abandoned`} />
            <Kpi label="Containment" value={pct(o.totals.containmentRate)} hint="ended without a transfer" />
            <Kpi label="Transfers" value={String(o.totals.transfers)} />
            <Kpi label="Average CSAT" value={o.csat.average === null ? '—' : o.csat.average.toFixed(2)} hint={`${o.csat.count} scored`} />
            <Kpi label="Cost" value={`$${o.totals.costUsd.toFixed(2)}`} hint="estimated" />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Calls per day
              </Title>
              <UPlotChart label="Calls, answered and abandoned per day" data={charts.calls.data} series={charts.calls.series} />
            </Card>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Latency per stage (p50 solid, p95 dashed)
              </Title>
              <UPlotChart label="Reply latency p50 and p95 per stage per day, ms" data={charts.latency.data} series={charts.latency.series} yLabel="ms" />
            </Card>
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                CSAT distribution
              </Title>
              <CsatDistribution csat={o.csat} />
              <CsatAgreementNote range={range} />
            </Card>
            <Card withBorder>
              <CountTable caption="Language" rows={o.languages.map((l) => [l.language ?? 'unknown', l.calls])} />
            </Card>
            <Card withBorder>
              <CountTable caption="Top intents" rows={o.topIntents.map((i) => [i.intent, i.calls])} />
            </Card>
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}
