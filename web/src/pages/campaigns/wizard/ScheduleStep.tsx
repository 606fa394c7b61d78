import { Checkbox, Fieldset, Group, NumberInput, SimpleGrid, Stack, TagsInput, TextInput } from '@mantine/core';
import type { StepProps } from './step-props';
import { parseLadder, RETRY_OUTCOMES, WEEKDAYS, type RetryOutcome } from './wizard-state';

const OUTCOME_LABEL: Record<RetryOutcome, string> = { busy: 'Busy', noAnswer: 'No answer', failed: 'Failed', voicemail: 'Voicemail' };
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

type ScheduleField = 'days' | 'start' | 'end' | 'blackoutDates' | 'maxConcurrent' | 'cps' | 'maxAttempts' | RetryOutcome;

/** Problems that keep the window / pacing / retries step from going on (the API's limits, issue 11 §3). */
export function scheduleProblems(s: StepProps['state']): Partial<Record<ScheduleField, string>> {
  const out: Partial<Record<ScheduleField, string>> = {};
  if (!s.days.length) out.days = 'Pick at least one day.';
  if (!HHMM.test(s.start)) out.start = 'HH:MM, 24 h.';
  if (!HHMM.test(s.end)) out.end = 'HH:MM, 24 h.';
  else if (HHMM.test(s.start) && s.end <= s.start) out.end = 'End must be after start.';
  if (s.blackoutDates.some((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d))) out.blackoutDates = 'Dates as YYYY-MM-DD.';
  if (!Number.isInteger(s.maxConcurrent) || s.maxConcurrent < 1 || s.maxConcurrent > 1000) out.maxConcurrent = '1 to 1000.';
  if (!(s.cps >= 0.1 && s.cps <= 100)) out.cps = '0.1 to 100 calls per second.';
  if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1 || s.maxAttempts > 10) out.maxAttempts = '1 to 10.';
  for (const o of RETRY_OUTCOMES) {
    try {
      const l = parseLadder(s.ladders[o]);
      if (l.length > 10) out[o] = 'At most 10 delays.';
      else if (l.some((x) => x < 60 || x > 30 * 86_400)) out[o] = 'Each delay between 1m and 30d.';
    } catch (err) {
      out[o] = (err as Error).message;
    }
  }
  return out;
}

/**
 * Step 3: the calling window (days, local start/end in each contact's time zone, blackout dates), pacing (max
 * concurrent calls, calls per second) and retries (one attempt budget per contact; a delay ladder per outcome).
 */
export function ScheduleStep({ state, set, showErrors }: StepProps) {
  const e = showErrors ? scheduleProblems(state) : {};
  return (
    <Stack maw={640}>
      <Fieldset legend="Calling window (each contact's local time)">
        <Checkbox.Group label="Days" value={state.days} onChange={(days) => set({ days })} error={e.days}>
          <Group mt={4}>
            {WEEKDAYS.map((d) => (
              <Checkbox key={d} value={d} label={d[0].toUpperCase() + d.slice(1)} />
            ))}
          </Group>
        </Checkbox.Group>
        <Group mt="sm" grow>
          <TextInput label="Start" placeholder="09:00" value={state.start} onChange={(ev) => set({ start: ev.currentTarget.value })} error={e.start} />
          <TextInput label="End" placeholder="20:00" value={state.end} onChange={(ev) => set({ end: ev.currentTarget.value })} error={e.end} />
        </Group>
        <TagsInput mt="sm" label="Blackout dates" description="YYYY-MM-DD; press Enter after each." value={state.blackoutDates} onChange={(blackoutDates) => set({ blackoutDates })} error={e.blackoutDates} />
      </Fieldset>
      <Fieldset legend="Pacing">
        <Group grow>
          <NumberInput label="Max concurrent calls" min={1} max={1000} value={state.maxConcurrent} onChange={(v) => set({ maxConcurrent: Number(v) })} error={e.maxConcurrent} />
          <NumberInput label="Calls per second" min={0.1} max={100} step={0.1} decimalScale={1} value={state.cps} onChange={(v) => set({ cps: Number(v) })} error={e.cps} />
        </Group>
      </Fieldset>
      <Fieldset legend="Retries">
        <NumberInput label="Max attempts per contact (first call included)" min={1} max={10} value={state.maxAttempts} onChange={(v) => set({ maxAttempts: Number(v) })} error={e.maxAttempts} />
        <SimpleGrid cols={2} mt="sm">
          {RETRY_OUTCOMES.map((o) => (
            <TextInput
              key={o}
              label={`Delays after ${OUTCOME_LABEL[o].toLowerCase()}`}
              description="e.g. 30m, 2h, 1d (last repeats; empty: no retry)"
              value={state.ladders[o]}
              onChange={(ev) => set({ ladders: { ...state.ladders, [o]: ev.currentTarget.value } })}
              error={e[o]}
            />
          ))}
        </SimpleGrid>
      </Fieldset>
    </Stack>
  );
}
