import { Alert, FileInput, List, NativeSelect, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { guessTargets, mappingProblems, parseCsvPreview, type ColumnTarget } from '../csv-preview';
import type { StepProps } from './step-props';

const TARGET_LABELS: Record<ColumnTarget, string> = { phone: 'Phone', name: 'Name', timezone: 'Time zone', language: 'Language', variable: 'Variable' };

/** Problems that keep the contacts step from going on: no file, or a mapping the server would refuse. */
export function contactsProblems(s: StepProps['state']): string[] {
  if (!s.csv) return ['Choose a CSV file with a header row.'];
  return mappingProblems(s.csv.preview.header, s.csv.targets);
}

/**
 * Step 2: the contacts CSV. The header and first 5 rows are parsed in the browser and each column mapped to phone,
 * name, time zone, language or a variable (named by its header, for `{{first_name}}` in the agent's messages). The
 * server checks every row when the campaign is created and answers each bad one with its line.
 */
export function ContactsStep({ state, set, showErrors }: StepProps) {
  const [readError, setReadError] = useState<string | null>(null);
  const onFile = async (file: File | null) => {
    setReadError(null);
    if (!file) return set({ csv: null });
    try {
      const text = await file.text();
      const preview = parseCsvPreview(text);
      set({ csv: { fileName: file.name, text, preview, targets: guessTargets(preview.header) } });
    } catch (err) {
      set({ csv: null });
      setReadError(`${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const csv = state.csv;
  const problems = csv ? mappingProblems(csv.preview.header, csv.targets) : [];
  const setTarget = (i: number, t: ColumnTarget) => csv && set({ csv: { ...csv, targets: csv.targets.map((x, j) => (j === i ? t : x)) } });
  return (
    <Stack>
      <FileInput
        label="Contacts file (CSV)"
        description="A header row, then one contact per line."
        accept=".csv,text/csv"
        placeholder={csv?.fileName ?? 'Choose a file'}
        onChange={onFile}
        error={readError ?? (showErrors && !csv ? 'Choose a CSV file with a header row.' : undefined)}
        maw={560}
      />
      {csv && (
        <>
          <Text size="sm">Map each column; the preview shows the first {csv.preview.rows.length} rows.</Text>
          <ScrollArea>
            <Table withTableBorder aria-label="Column mapping preview">
              <Table.Thead>
                <Table.Tr>
                  {csv.preview.header.map((h, i) => (
                    <Table.Th key={i}>
                      <NativeSelect
                        label={h || `Column ${i + 1}`}
                        size="xs"
                        value={csv.targets[i]}
                        onChange={(e) => setTarget(i, e.currentTarget.value as ColumnTarget)}
                        data={Object.entries(TARGET_LABELS).map(([value, label]) => ({ value, label }))}
                      />
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {csv.preview.rows.map((r, j) => (
                  <Table.Tr key={j}>
                    {csv.preview.header.map((_, i) => (
                      <Table.Td key={i}>{r[i] ?? ''}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          {problems.length > 0 && (
            <Alert color="red" title="Check the mapping" role="alert">
              <List size="sm">
                {problems.map((p) => (
                  <List.Item key={p}>{p}</List.Item>
                ))}
              </List>
            </Alert>
          )}
        </>
      )}
    </Stack>
  );
}
