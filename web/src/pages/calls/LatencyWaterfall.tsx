import { Box, Group, Table, Text, Tooltip } from '@mantine/core';
import type { Schema } from '../../api/client';

type Turn = Schema<'CallDetail'>['turns'][number];
type Timings = Schema<'TurnTimings'>;

/** The stages of a reply in the order they happen, with their colours (Mantine palette, AA on white). */
export const STAGES: Array<{ key: keyof Timings & `${string}Ms`; label: string; color: string }> = [
  { key: 'endpointingMs', label: 'Endpointing', color: 'var(--mantine-color-gray-6)' },
  { key: 'sttMs', label: 'STT', color: 'var(--mantine-color-blue-7)' },
  { key: 'llmFirstTokenMs', label: 'LLM first token', color: 'var(--mantine-color-violet-7)' },
  { key: 'ttsFirstByteMs', label: 'TTS first byte', color: 'var(--mantine-color-teal-8)' },
];

const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} ms`);

/**
 * Per-turn latency waterfall: for each reply with timings, the stages laid end to end (endpointing → STT → LLM first
 * token → TTS first byte) on one scale (the slowest turn's total fills the bar), with the measured reply latency.
 * The numbers are in the table cells too (screen readers, copy-paste); the bars are decoration.
 */
export function LatencyWaterfall({ turns }: { turns: Turn[] }) {
  const timed = turns.map((t, i) => ({ t, n: i + 1 })).filter((x): x is { t: Turn & { timings: Timings }; n: number } => x.t.timings !== null && STAGES.some((s) => x.t.timings?.[s.key] !== undefined));
  if (!timed.length) return <Text c="dimmed">No turn of this call has latency timings.</Text>;
  const total = (tm: Timings) => STAGES.reduce((a, s) => a + (tm[s.key] ?? 0), 0);
  const scale = Math.max(1, ...timed.map((x) => Math.max(total(x.t.timings), x.t.timings.replyLatencyMs ?? 0)));
  return (
    <>
      <Group gap="md" mb="xs" aria-hidden>
        {STAGES.map((s) => (
          <Group key={s.key} gap={4}>
            <Box w={12} h={12} style={{ background: s.color, borderRadius: 2 }} />
            <Text size="sm">{s.label}</Text>
          </Group>
        ))}
      </Group>
      <Table.ScrollContainer minWidth={800}>
        <Table aria-label="Per-turn latency">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Turn</Table.Th>
              {STAGES.map((s) => (
                <Table.Th key={s.key}>{s.label}</Table.Th>
              ))}
              <Table.Th>Reply latency</Table.Th>
              <Table.Th w="35%">Waterfall</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {timed.map(({ t, n }) => (
              <Table.Tr key={n} data-testid="latency-row">
                <Table.Td>#{n}</Table.Td>
                {STAGES.map((s) => (
                  <Table.Td key={s.key}>{ms(t.timings[s.key])}</Table.Td>
                ))}
                <Table.Td>{ms(t.timings.replyLatencyMs)}</Table.Td>
                <Table.Td>
                  <Box style={{ display: 'flex', height: 14, background: 'var(--mantine-color-gray-1)', borderRadius: 2 }} aria-hidden>
                    {STAGES.map((s) => {
                      const v = t.timings[s.key];
                      return v ? (
                        <Tooltip key={s.key} label={`${s.label}: ${ms(v)}`}>
                          <Box style={{ width: `${(v / scale) * 100}%`, background: s.color }} />
                        </Tooltip>
                      ) : null;
                    })}
                  </Box>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </>
  );
}
