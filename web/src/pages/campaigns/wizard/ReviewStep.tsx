import { Checkbox, Stack, Table } from '@mantine/core';
import type { StepProps } from './step-props';
import { formatDelay, parseLadder, RETRY_OUTCOMES } from './wizard-state';

/** Step 4: everything the campaign will be created with, and whether to start it right away. */
export function ReviewStep({ state, startNow, setStartNow }: StepProps & { startNow: boolean; setStartNow(v: boolean): void }) {
  const ladder = (text: string) => {
    const l = parseLadder(text);
    return l.length ? l.map(formatDelay).join(' → ') : 'no retry';
  };
  const mapped = state.csv ? state.csv.preview.header.map((h, i) => `${h} → ${state.csv!.targets[i]}`).join(', ') : '';
  const rows: Array<[string, string]> = [
    ['Name', state.name],
    ['Agent', state.agentId ?? ''],
    ['Caller IDs', state.callerIds.join(', ')],
    ['Default region', state.defaultRegion || '—'],
    ['Voicemail message', state.voicemailMessage || "the agent's"],
    ['Contacts file', state.csv ? `${state.csv.fileName} (${mapped})` : ''],
    ['Window', `${state.days.join(', ')} ${state.start}–${state.end}${state.blackoutDates.length ? `, not on ${state.blackoutDates.join(', ')}` : ''}`],
    ['Pacing', `${state.maxConcurrent} at once, ${state.cps} per second`],
    ['Attempts per contact', String(state.maxAttempts)],
    ...RETRY_OUTCOMES.map((o): [string, string] => [`Retry after ${o}`, ladder(state.ladders[o])]),
  ];
  return (
    <Stack maw={720}>
      <Table aria-label="Review">
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th scope="row" w={200}>
                {k}
              </Table.Th>
              <Table.Td>{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Checkbox label="Start the campaign once the contacts are in" checked={startNow} onChange={(e) => setStartNow(e.currentTarget.checked)} />
    </Stack>
  );
}
