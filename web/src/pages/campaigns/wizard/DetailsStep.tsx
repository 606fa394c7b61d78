import { Select, Stack, TagsInput, Textarea, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../../api/client';
import { useAgents } from '../campaign-api';
import type { StepProps } from './step-props';

/** Problems that keep the details step from going on (the server validates again and its issues show on review). */
export function detailsProblems(s: StepProps['state']): Partial<Record<'name' | 'agentId' | 'callerIds' | 'defaultRegion', string>> {
  const out: Partial<Record<'name' | 'agentId' | 'callerIds' | 'defaultRegion', string>> = {};
  if (!s.name.trim()) out.name = 'Give the campaign a name.';
  if (!s.agentId) out.agentId = 'Pick the agent that makes the calls.';
  if (!s.callerIds.length) out.callerIds = 'Add at least one caller ID.';
  else if (s.callerIds.some((n) => !/^\+[1-9]\d{6,14}$/.test(n))) out.callerIds = 'Caller IDs must be E.164, like +14155550100.';
  if (s.defaultRegion.trim() && !/^[A-Za-z]{2}$/.test(s.defaultRegion.trim())) out.defaultRegion = 'Two letters (ISO 3166-1), e.g. US.';
  return out;
}

/** Step 1: name, agent, caller IDs (suggested from the phone numbers), default region, voicemail message. */
export function DetailsStep({ state, set, showErrors }: StepProps) {
  const agents = useAgents();
  const numbers = useQuery({ queryKey: ['phone-numbers', 'list'], queryFn: () => unwrap(api.GET('/api/phone-numbers')).then((r) => r.phoneNumbers) });
  const errors = showErrors ? detailsProblems(state) : {};
  return (
    <Stack maw={560}>
      <TextInput label="Name" required value={state.name} onChange={(e) => set({ name: e.currentTarget.value })} error={errors.name} />
      <Select
        label="Agent"
        required
        searchable
        data={(agents.data ?? []).map((a) => ({ value: a.id, label: `${a.name} (${a.id})` }))}
        value={state.agentId}
        onChange={(v) => set({ agentId: v })}
        error={errors.agentId ?? agents.error?.message}
      />
      <TagsInput
        label="Caller IDs"
        description="E.164 numbers the calls come from (rotated); press Enter after each."
        required
        data={(numbers.data ?? []).map((n) => n.number)}
        value={state.callerIds}
        onChange={(v) => set({ callerIds: v.map((x) => x.replace(/[\s()-]/g, '')) })}
        error={errors.callerIds}
      />
      <TextInput
        label="Default region"
        description="For national numbers in the contacts file (ISO 3166-1 alpha-2)."
        value={state.defaultRegion}
        onChange={(e) => set({ defaultRegion: e.currentTarget.value })}
        error={errors.defaultRegion}
      />
      <Textarea
        label="Voicemail message"
        description="Left on answering machines; {{first_name}} and other contact columns fill in. Empty: the agent's."
        autosize
        minRows={2}
        value={state.voicemailMessage}
        onChange={(e) => set({ voicemailMessage: e.currentTarget.value })}
      />
    </Stack>
  );
}
