import { z } from 'zod';
import 'zod-openapi';
import { agentSchema } from '../../db/agents';
import { agentEndpointingSchema, agentLlmSchema, agentProvidersSchema, agentSettingsShape, csatSurveySchema, recordingNoticeSchema } from '../../domain/agent-settings';
import { phoneNumberInputSchema } from '../../domain/phone-number';
import { dtmfMenuSchema, httpToolSchema, ttsVoicesSchema } from '../../domain/tools';

/**
 * The agents API's request and response schemas (zod; they validate requests and generate the OpenAPI document).
 * Field rules come from the stored agent's schema (`agentSchema`, src/db/agents.ts) and the domain schemas; the
 * request schemas are strict (unknown fields are rejected) and carry no defaults (a PATCH must not reset fields).
 */

const s = agentSchema.shape;
const d = (description: string) => ({ description });

/** A tool as a request sends it: `secret` write-only — a string sets it, `null` clears it, absent keeps the stored one (PATCH, same tool name). */
export const httpToolInputSchema = z
  .strictObject({
    ...httpToolSchema.shape,
    secret: httpToolSchema.shape.secret
      .unwrap()
      .nullable()
      .optional()
      .meta(d('Standard Webhooks secret (`whsec_…`) that signs the request. Write-only: never returned. `null` clears it; absent keeps the stored one (by tool name).')),
  })
  .meta({ id: 'HttpToolInput', description: 'An HTTP tool the LLM may call: the engine POSTs the JSON arguments to `url`.' });

/** A tool as responses show it: the secret replaced by `hasSecret`. */
export const publicHttpToolSchema = httpToolSchema
  .omit({ secret: true })
  .extend({ hasSecret: z.boolean().meta(d('Whether a signing secret is stored (the secret itself is never returned).')) })
  .meta({ id: 'HttpTool' });

const toolsInput = z
  .array(httpToolInputSchema)
  .max(50, 'at most 50 tools')
  .refine((tools) => new Set(tools.map((t) => t.name)).size === tools.length, 'tool names must be unique');

/** Every writable field, without defaults. */
const fields = {
  name: s.name.meta(d('Display name.')),
  systemPrompt: s.systemPrompt.meta(d('The LLM system prompt.')),
  firstMessage: s.firstMessage.meta(d('Greeting spoken when a call starts (for a language without its own in `firstMessages`).')),
  firstMessages: agentSettingsShape.firstMessages.unwrap().meta(d('Greeting per ISO 639-1 language.')),
  languages: s.languages.meta(d('ISO 639-1 codes the agent speaks.')),
  defaultLanguage: s.defaultLanguage.meta(d('ISO 639-1; one of `languages`.')),
  voices: s.voices.meta(d('Local (espeak-ng) TTS voice per language, e.g. `{ "en": "en-us" }`.')),
  ttsVoices: ttsVoicesSchema.meta(d('Cloud TTS voice per provider and language, e.g. `{ "openai": { "en": "alloy" } }`.')),
  intents: s.intents.meta(d('snake_case intents the agent recognises.')),
  providers: agentProvidersSchema.meta(d('STT / LLM / TTS provider overrides; absent = the server default.')),
  llm: agentLlmSchema.meta(d('LLM model and temperature overrides.')),
  dtmfMenu: dtmfMenuSchema.meta(d('DTMF key → action.')),
  handoffNumber: phoneNumberInputSchema.nullable().meta(d('Number a human handoff dials, in international form (stored as E.164), or null.')),
  tools: toolsInput.meta(d('HTTP tools the LLM may call (names unique).')),
  endpointing: agentEndpointingSchema.meta(d('Endpointing and barge-in overrides (ms).')),
  maxCallDurationMs: agentSettingsShape.maxCallDurationMs.unwrap().meta(d('Hard cap on one call (ms); null = the server default.')),
  voicemailMessage: agentSettingsShape.voicemailMessage.unwrap().meta(d('Outbound: message left on an answering machine; null = none.')),
  optOutPhrases: agentSettingsShape.optOutPhrases.unwrap().meta(d('Outbound: caller phrases that opt the number out.')),
  recordCalls: z.boolean().meta(d('Whether calls are recorded (two-channel WAV, caller left / agent right; default true). RECORDINGS_ENABLED=false turns recording off for every agent.')),
  recordingNotice: recordingNoticeSchema.meta(d('"This call may be recorded", spoken before the greeting when `enabled` (default off); `text` per language, else the built-in line.')),
  csatSurvey: csatSurveySchema.meta(d('End-of-call CSAT survey (default off): when the agent ends the call it says `prompt` (per language, else the built-in line), waits `timeoutMs` (default 8000) for a key 1–5 and stores it as the stated score.')),
  vocabulary: s.vocabulary.unwrap().meta(d('Words callers use that STT mishears; near-misses are corrected to them.')),
  extractionSchema: agentSettingsShape.extractionSchema
    .unwrap()
    .nullable()
    .meta(
      d(
        'Post-call analysis: the fields to extract from each call, as a JSON Schema object `{ "type": "object", "properties": { "<name>": { "type": "string"|"number"|"integer"|"boolean", "description"?, "enum"?, "format"? } } }` (format on strings: date-time, date, time, email, phone; at most 30 properties); null = none.',
      ),
    ),
  isDefault: z.boolean().meta(d('The agent answering numbers without their own agent (at most one; setting it clears the previous default).')),
};

/** `POST /api/agents`: `name`, `systemPrompt`, `firstMessage` required; `id` generated from the name when omitted. */
export const agentCreateSchema = z
  .strictObject({
    id: s.id.optional().meta(d('1-64 letters, digits, _ . -; generated from the name when omitted.')),
    ...fields,
    firstMessages: fields.firstMessages.optional(),
    languages: fields.languages.optional(),
    defaultLanguage: fields.defaultLanguage.optional(),
    voices: fields.voices.optional(),
    ttsVoices: fields.ttsVoices.optional(),
    intents: fields.intents.optional(),
    providers: fields.providers.optional(),
    llm: fields.llm.optional(),
    dtmfMenu: fields.dtmfMenu.optional(),
    handoffNumber: fields.handoffNumber.optional(),
    tools: fields.tools.optional(),
    endpointing: fields.endpointing.optional(),
    maxCallDurationMs: fields.maxCallDurationMs.optional(),
    voicemailMessage: fields.voicemailMessage.optional(),
    optOutPhrases: fields.optOutPhrases.optional(),
    recordCalls: fields.recordCalls.optional(),
    recordingNotice: fields.recordingNotice.optional(),
    csatSurvey: fields.csatSurvey.optional(),
    vocabulary: fields.vocabulary.optional(),
    extractionSchema: fields.extractionSchema.optional(),
    isDefault: fields.isDefault.optional(),
  })
  .meta({ id: 'AgentCreate' });
export type AgentCreate = z.output<typeof agentCreateSchema>;

/** `PATCH /api/agents/{id}`: any subset of the fields; each given field replaces the stored one wholesale. */
export const agentPatchSchema = z.strictObject(fields).partial().meta({ id: 'AgentPatch' });
export type AgentPatch = z.output<typeof agentPatchSchema>;

const AGENT_EXAMPLE = {
  id: 'support-en',
  name: 'Support (English)',
  systemPrompt: 'You are the voice assistant of Acme. Answer briefly.',
  firstMessage: 'Hi, this is Acme support. How can I help?',
  firstMessages: { es: 'Hola, soporte de Acme. ¿En qué puedo ayudar?' },
  defaultLanguage: 'en',
  languages: ['en', 'es'],
  voices: { en: 'en-us', es: 'es' },
  ttsVoices: { openai: { en: 'alloy' } },
  intents: ['order_status', 'hours'],
  providers: { tts: 'openai' },
  llm: { model: 'gpt-4o-mini', temperature: 0.3 },
  dtmfMenu: { '0': 'transfer' },
  handoffNumber: '+14155550100',
  tools: [
    {
      name: 'order_status',
      description: 'Look up an order by its number.',
      parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
      url: 'https://crm.example.com/tools/order-status',
      timeoutMs: 3000,
      hasSecret: true,
    },
  ],
  endpointing: { silenceMs: 700, bargeIn: true },
  maxCallDurationMs: 900000,
  voicemailMessage: null,
  optOutPhrases: ['stop calling me'],
  recordCalls: true,
  recordingNotice: { enabled: true, text: { en: 'This call may be recorded for quality.', es: 'Esta llamada puede ser grabada.' } },
  csatSurvey: { enabled: true, timeoutMs: 8000 },
  vocabulary: ['Acme'],
  extractionSchema: {
    type: 'object',
    properties: {
      orderNumber: { type: 'string', description: "The caller's order number" },
      appointmentTime: { type: 'string', format: 'date-time' },
    },
  },
  isDefault: true,
  archivedAt: null,
};

/** An agent as every response shows it (tool secrets replaced by `hasSecret`). */
export const publicAgentSchema = z
  .object({
    ...s,
    tools: z.array(publicHttpToolSchema),
    archivedAt: z.iso.datetime({ offset: true }).nullable().meta(d('When the agent was archived (it takes no new calls), or null.')),
  })
  .meta({ id: 'Agent', example: AGENT_EXAMPLE });

/** Example bodies for the route table (validated against the schemas by the OpenAPI test). */
export const agentExamples = {
  agent: AGENT_EXAMPLE,
  create: {
    name: 'Support (English)',
    systemPrompt: 'You are the voice assistant of Acme. Answer briefly.',
    firstMessage: 'Hi, this is Acme support. How can I help?',
    languages: ['en', 'es'],
    handoffNumber: '+1 415 555 0100',
    tools: [
      {
        name: 'order_status',
        description: 'Look up an order by its number.',
        parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
        url: 'https://crm.example.com/tools/order-status',
        timeoutMs: 3000,
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
    ],
  },
  patch: { llm: { temperature: 0.2 }, optOutPhrases: ['stop calling me', 'remove my number'] },
};
