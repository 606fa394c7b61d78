import { Alert, Anchor, Button, Fieldset, Group, JsonInput, NumberInput, Select, SimpleGrid, Stack, Switch, TagsInput, Text, Textarea, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiFailure, fieldError, unwrap } from '../../api/client';
import { PageLoader } from '../../app/PageLoader';
import { Section } from '../../app/Section';
import { useCan } from '../../auth/session';
import { bodyOf, changedFields, emptyForm, EXTRACTION_SCHEMA_EXAMPLE, formOf, JSON_FIELDS, type Agent, type AgentCreate, type AgentForm, type JsonField } from './agent-form';
import { KnowledgeBase } from './KnowledgeBase';

const JSON_HELP: Record<JsonField, string> = {
  firstMessages: 'Greeting per language, e.g. { "es": "Hola…" } (others use the first message).',
  voices: 'Local (espeak-ng) voice per language, e.g. { "en": "en-us" }.',
  ttsVoices: 'Cloud TTS voice per provider and language, e.g. { "openai": { "en": "alloy" } }.',
  dtmfMenu: 'Key → action, e.g. { "0": "transfer" }.',
  tools: 'HTTP tools: [{ name, description, parameters, url, timeoutMs, secret? }]. "secret" is write-only: leave it out to keep the stored one, null clears it.',
};

/**
 * The agent editor (`/agents/new` creates, `/agents/:id` edits): every field of the agents API — text and list fields
 * as inputs, provider / LLM / endpointing overrides, and the nested maps and tools as JSON. The API validates; its
 * `issues[]` show next to the fields they name. Viewers see the agent read-only. An existing agent shows its
 * knowledge base and can be archived or restored.
 */
export default function AgentPage() {
  const { id } = useParams();
  const isNew = id === undefined;
  const canEdit = useCan('supervisor');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const q = useQuery({ queryKey: ['agent', id], enabled: !isNew, queryFn: () => unwrap(api.GET('/api/agents/{id}', { params: { path: { id: id! } } })) });
  const [form, setForm] = useState<AgentForm>(emptyForm);
  const [jsonErrors, setJsonErrors] = useState<Partial<Record<JsonField | 'extractionSchema', string>>>({});
  const agent: Agent | undefined = q.data?.agent;
  useEffect(() => {
    if (agent) setForm(formOf(agent));
  }, [agent]);

  const save = useMutation({
    mutationFn: async (body: Record<string, unknown>) => {
      if (isNew) return unwrap(api.POST('/api/agents', { body: body as AgentCreate }));
      const prev = bodyOf(formOf(agent!));
      const patch = 'body' in prev ? changedFields(prev.body, body) : body;
      return unwrap(api.PATCH('/api/agents/{id}', { params: { path: { id: id! } }, body: patch }));
    },
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: ['agents'] });
      qc.setQueryData(['agent', r.agent.id], r);
      notifications.show({ color: 'green', message: `Agent ${r.agent.name} saved` });
      if (isNew) navigate(`/agents/${encodeURIComponent(r.agent.id)}`, { replace: true });
    },
  });
  const archive = useMutation({
    mutationFn: (archived: boolean) =>
      unwrap(archived ? api.POST('/api/agents/{id}/archive', { params: { path: { id: id! } } }) : api.POST('/api/agents/{id}/unarchive', { params: { path: { id: id! } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['agent', id] });
      await qc.invalidateQueries({ queryKey: ['agents'] });
    },
  });

  if (!isNew && q.isPending) return <PageLoader />;
  if (!isNew && q.isError)
    return (
      <Alert color="red" title="Could not load the agent">
        {q.error.message}
      </Alert>
    );

  const err = save.error;
  const fe = (path: string) => fieldError(err, `body.${path}`);
  const set = <K extends keyof AgentForm>(k: K, v: AgentForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = bodyOf(form);
    if ('jsonErrors' in r) {
      setJsonErrors(r.jsonErrors);
      return;
    }
    setJsonErrors({});
    save.mutate(r.body);
  };
  // The server's messages about the schema, with where in it they apply (`properties.address.type: …`).
  const schemaIssues =
    err instanceof ApiFailure
      ? err.issues
          .filter((i) => i.path === 'body.extractionSchema' || i.path.startsWith('body.extractionSchema.'))
          .map((i) => `${i.path.replace(/^body\.extractionSchema\.?/, '') || 'schema'}: ${i.message}`)
          .join('; ') || undefined
      : undefined;
  const unplaced = err instanceof ApiFailure ? err.issues.filter((i) => !i.path.startsWith('body.') || i.path === 'body') : [];
  const numberField = (label: string, value: number | '', onChange: (v: number | '') => void, path: string, description?: string) => (
    <NumberInput label={label} description={description} value={value} onChange={(v) => onChange(typeof v === 'number' ? v : '')} error={fe(path)} allowDecimal={false} />
  );

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          {isNew ? 'New agent' : `Agent ${agent?.name}`}
        </Title>
        <Group>
          {!isNew && agent && !agent.archivedAt && (
            <Button component={Link} to={`/test-call?agentId=${encodeURIComponent(agent.id)}`} variant="light">
              Test call
            </Button>
          )}
          <Anchor component={Link} to="/agents">
            Back to agents
          </Anchor>
        </Group>
      </Group>
      {agent?.archivedAt && <Alert color="gray">This agent is archived: it takes no new calls.</Alert>}
      <form onSubmit={submit} aria-label="Agent">
        <fieldset disabled={!canEdit} style={{ border: 0, padding: 0, margin: 0 }}>
          <Stack>
            {err && (
              <Alert color="red" title="Not saved" role="alert">
                {err instanceof ApiFailure && err.issues.length ? 'Fix the fields marked below.' : err.message}
                {unplaced.map((i) => (
                  <Text key={i.path} size="sm">
                    {i.path}: {i.message}
                  </Text>
                ))}
              </Alert>
            )}
            <Fieldset legend="Identity and conversation">
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <TextInput label="Name" required value={form.name} onChange={(e) => set('name', e.currentTarget.value)} error={fe('name')} />
                <TextInput label="Id" description={isNew ? 'Generated from the name when empty.' : 'Fixed once created.'} value={form.id} readOnly={!isNew} onChange={(e) => set('id', e.currentTarget.value)} error={fe('id')} />
              </SimpleGrid>
              <Textarea label="System prompt" required autosize minRows={4} maxRows={16} value={form.systemPrompt} onChange={(e) => set('systemPrompt', e.currentTarget.value)} error={fe('systemPrompt')} mt="sm" />
              <TextInput label="First message" description="Greeting spoken when a call starts." required value={form.firstMessage} onChange={(e) => set('firstMessage', e.currentTarget.value)} error={fe('firstMessage')} mt="sm" />
              <SimpleGrid cols={{ base: 1, md: 2 }} mt="sm">
                <TagsInput label="Languages" description="ISO 639-1 codes (Enter after each)." value={form.languages} onChange={(v) => set('languages', v)} error={fe('languages')} />
                <Select label="Default language" data={form.languages} value={form.defaultLanguage || null} onChange={(v) => set('defaultLanguage', v ?? '')} error={fe('defaultLanguage')} />
                <TagsInput label="Intents" description="snake_case intents the agent recognises." value={form.intents} onChange={(v) => set('intents', v)} error={fe('intents')} />
                <TagsInput label="Vocabulary" description="Words callers use that STT mishears." value={form.vocabulary} onChange={(v) => set('vocabulary', v)} error={fe('vocabulary')} />
              </SimpleGrid>
            </Fieldset>
            <Fieldset legend="Calls">
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <TextInput label="Handoff number" description="International form, e.g. +1 415 555 0100; empty = none." value={form.handoffNumber} onChange={(e) => set('handoffNumber', e.currentTarget.value)} error={fe('handoffNumber')} />
                {numberField('Max call duration (ms)', form.maxCallDurationMs, (v) => set('maxCallDurationMs', v), 'maxCallDurationMs', '10000 to 14400000; empty = server default.')}
                <Textarea label="Voicemail message" description="Outbound: left on an answering machine; empty = none." autosize minRows={2} value={form.voicemailMessage} onChange={(e) => set('voicemailMessage', e.currentTarget.value)} error={fe('voicemailMessage')} />
                <TagsInput label="Opt-out phrases" description="Outbound: phrases that opt the number out." value={form.optOutPhrases} onChange={(v) => set('optOutPhrases', v)} error={fe('optOutPhrases')} />
              </SimpleGrid>
              <Switch mt="sm" label="Default agent (answers numbers without their own agent)" checked={form.isDefault} onChange={(e) => set('isDefault', e.currentTarget.checked)} error={fe('isDefault')} />
            </Fieldset>
            <Fieldset legend="CSAT survey">
              <Switch
                label="Ask callers for a 1–5 rating when the agent ends the call (DTMF)"
                checked={form.csatSurvey.enabled}
                onChange={(e) => set('csatSurvey', { ...form.csatSurvey, enabled: e.currentTarget.checked })}
                error={fe('csatSurvey.enabled')}
              />
              <SimpleGrid cols={{ base: 1, md: 2 }} mt="sm">
                <Textarea
                  label={`Survey prompt (${form.defaultLanguage || 'default language'})`}
                  description="Empty = the built-in line: “Before you go: on a scale of 1 to 5, how satisfied were you with this call? Press a number from 1 to 5.”"
                  autosize
                  minRows={2}
                  value={form.csatSurvey.prompt}
                  onChange={(e) => set('csatSurvey', { ...form.csatSurvey, prompt: e.currentTarget.value })}
                  error={fe('csatSurvey.prompt')}
                />
                {numberField('Wait for a key (ms)', form.csatSurvey.timeoutMs, (v) => set('csatSurvey', { ...form.csatSurvey, timeoutMs: v }), 'csatSurvey.timeoutMs', '2000 to 30000; empty = 8000')}
              </SimpleGrid>
            </Fieldset>
            <Fieldset legend="Providers and LLM">
              <SimpleGrid cols={{ base: 1, md: 3 }}>
                <Select label="STT provider" data={['openai', 'local', 'fake']} clearable placeholder="server default" value={form.providers.stt || null} onChange={(v) => set('providers', { ...form.providers, stt: v ?? '' })} error={fe('providers.stt')} />
                <Select label="LLM provider" data={['openai', 'local', 'fake']} clearable placeholder="server default" value={form.providers.llm || null} onChange={(v) => set('providers', { ...form.providers, llm: v ?? '' })} error={fe('providers.llm')} />
                <Select label="TTS provider" data={['elevenlabs', 'openai', 'local', 'fake']} clearable placeholder="server default" value={form.providers.tts || null} onChange={(v) => set('providers', { ...form.providers, tts: v ?? '' })} error={fe('providers.tts')} />
                <TextInput label="LLM model" placeholder="server default" value={form.llmModel} onChange={(e) => set('llmModel', e.currentTarget.value)} error={fe('llm.model')} />
                <NumberInput label="LLM temperature" description="0 to 2" min={0} max={2} step={0.1} decimalScale={2} value={form.llmTemperature} onChange={(v) => set('llmTemperature', typeof v === 'number' ? v : '')} error={fe('llm.temperature')} />
              </SimpleGrid>
            </Fieldset>
            <Fieldset legend="Endpointing and barge-in (ms; empty = server default)">
              <SimpleGrid cols={{ base: 1, md: 3 }}>
                {numberField('Silence', form.endpointing.silenceMs, (v) => set('endpointing', { ...form.endpointing, silenceMs: v }), 'endpointing.silenceMs', '200 to 5000')}
                {numberField('Complete sentence', form.endpointing.completeMs, (v) => set('endpointing', { ...form.endpointing, completeMs: v }), 'endpointing.completeMs', '100 to 5000')}
                {numberField('Continuing sentence', form.endpointing.continuingMs, (v) => set('endpointing', { ...form.endpointing, continuingMs: v }), 'endpointing.continuingMs', '200 to 10000')}
                {numberField('Shortest utterance', form.endpointing.minSpeechMs, (v) => set('endpointing', { ...form.endpointing, minSpeechMs: v }), 'endpointing.minSpeechMs', '50 to 2000')}
                {numberField('Barge-in after', form.endpointing.bargeInMinSpeechMs, (v) => set('endpointing', { ...form.endpointing, bargeInMinSpeechMs: v }), 'endpointing.bargeInMinSpeechMs', '0 to 3000')}
                <Select
                  label="Barge-in"
                  data={[
                    { value: 'default', label: 'server default' },
                    { value: 'on', label: 'on (caller can interrupt)' },
                    { value: 'off', label: 'off (agent finishes replies)' },
                  ]}
                  value={form.endpointing.bargeIn}
                  onChange={(v) => set('endpointing', { ...form.endpointing, bargeIn: (v ?? 'default') as AgentForm['endpointing']['bargeIn'] })}
                  error={fe('endpointing.bargeIn')}
                />
              </SimpleGrid>
            </Fieldset>
            <Fieldset legend="Post-call analysis">
              <Textarea
                label="Extracted fields (JSON schema)"
                description='Fields pulled out of every call after it ends, e.g. an order number or an appointment time: { "type": "object", "properties": { name: { "type": "string" | "number" | "integer" | "boolean", "description"?, "enum"?, "format"?: "date-time" | "date" | "time" | "email" | "phone" } } }. Empty = none.'
                placeholder={EXTRACTION_SCHEMA_EXAMPLE}
                autosize
                minRows={4}
                maxRows={20}
                styles={{ input: { fontFamily: 'monospace' } }}
                value={form.extractionSchema}
                onChange={(e) => set('extractionSchema', e.currentTarget.value)}
                error={jsonErrors.extractionSchema ?? schemaIssues}
              />
            </Fieldset>
            <Fieldset legend="Greetings, voices, DTMF menu and tools (JSON)">
              <Stack>
                {JSON_FIELDS.map((k) => (
                  <JsonInput
                    key={k}
                    label={k}
                    description={JSON_HELP[k]}
                    autosize
                    minRows={2}
                    maxRows={20}
                    formatOnBlur
                    value={form.json[k]}
                    onChange={(v) => set('json', { ...form.json, [k]: v })}
                    error={jsonErrors[k] ?? fe(k)}
                  />
                ))}
              </Stack>
            </Fieldset>
            {canEdit && (
              <Group>
                <Button type="submit" loading={save.isPending}>
                  {isNew ? 'Create agent' : 'Save changes'}
                </Button>
              </Group>
            )}
          </Stack>
        </fieldset>
      </form>
      {!isNew && agent && (
        <>
          <Section title="Knowledge base">
            <KnowledgeBase agentId={agent.id} />
          </Section>
          {canEdit && (
            <Group>
              <Button variant="outline" color={agent.archivedAt ? 'blue' : 'red'} loading={archive.isPending} onClick={() => archive.mutate(!agent.archivedAt)}>
                {agent.archivedAt ? 'Restore agent' : 'Archive agent'}
              </Button>
              {archive.isError && <Text c="red">{archive.error.message}</Text>}
            </Group>
          )}
        </>
      )}
    </Stack>
  );
}
