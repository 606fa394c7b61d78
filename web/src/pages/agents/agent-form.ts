import type { Schema } from '../../api/client';

/** An agent as the API returns it. */
export type Agent = Schema<'Agent'>;
/** `POST /api/agents` body. */
export type AgentCreate = Schema<'AgentCreate'>;

/**
 * The editor's state: plain fields as typed, list fields as arrays, and the nested maps and tools as JSON text
 * (firstMessages, voices, ttsVoices, dtmfMenu, tools). Empty strings mean "not set".
 */
export interface AgentForm {
  id: string;
  name: string;
  systemPrompt: string;
  firstMessage: string;
  languages: string[];
  defaultLanguage: string;
  intents: string[];
  handoffNumber: string;
  maxCallDurationMs: number | '';
  voicemailMessage: string;
  optOutPhrases: string[];
  vocabulary: string[];
  isDefault: boolean;
  providers: { stt: string; llm: string; tts: string };
  llmModel: string;
  llmTemperature: number | '';
  endpointing: { silenceMs: number | ''; completeMs: number | ''; continuingMs: number | ''; minSpeechMs: number | ''; bargeInMinSpeechMs: number | ''; bargeIn: 'default' | 'on' | 'off' };
  json: { firstMessages: string; voices: string; ttsVoices: string; dtmfMenu: string; tools: string };
  /** Post-call extracted fields: the JSON schema as text; empty = none. */
  extractionSchema: string;
  /** End-of-call CSAT survey: `prompt` is the default language's line (empty = built-in); other languages' lines are kept as stored. */
  csatSurvey: { enabled: boolean; prompt: string; otherPrompts: Record<string, string>; timeoutMs: number | '' };
}

/** Property types and string formats an extraction schema may use (the server's rule, src/domain/extraction-schema.ts). */
const FIELD_TYPES = ['string', 'number', 'integer', 'boolean'];
const FIELD_FORMATS = ['date-time', 'date', 'time', 'email', 'phone'];

/** An example extraction schema (shown as the textarea's placeholder). */
export const EXTRACTION_SCHEMA_EXAMPLE = JSON.stringify(
  { type: 'object', properties: { orderNumber: { type: 'string', description: "The caller's order number" }, appointmentTime: { type: 'string', format: 'date-time' } } },
  null,
  2,
);

/**
 * Checks the extraction schema text before it is sent: empty is fine (no fields); otherwise it must be JSON of
 * `{ "type": "object", "properties": { name: { "type": string|number|integer|boolean, "format"?, "enum"?, "description"? } } }`.
 * @returns the parsed schema (null when empty), or the problems found, one sentence each.
 */
export function parseExtractionSchemaText(text: string): { schema: Record<string, unknown> | null } | { problems: string[] } {
  if (!text.trim()) return { schema: null };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { problems: [`not valid JSON: ${(err as Error).message}`] };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { problems: ['must be a JSON object'] };
  const o = v as { type?: unknown; properties?: unknown };
  const problems: string[] = [];
  if (o.type !== 'object') problems.push('"type" must be "object"');
  if (!o.properties || typeof o.properties !== 'object' || Array.isArray(o.properties) || !Object.keys(o.properties).length) {
    problems.push('"properties" must list at least one field');
  } else {
    for (const [name, p] of Object.entries(o.properties as Record<string, { type?: unknown; format?: unknown }>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) problems.push(`"${name}": names are letters, digits or _ and do not start with a digit`);
      if (!p || typeof p !== 'object' || !FIELD_TYPES.includes(p.type as string)) problems.push(`"${name}": type must be one of ${FIELD_TYPES.join(', ')}`);
      else if (p.format !== undefined && (p.type !== 'string' || !FIELD_FORMATS.includes(p.format as string))) problems.push(`"${name}": format must be one of ${FIELD_FORMATS.join(', ')} (strings only)`);
    }
  }
  return problems.length ? { problems } : { schema: v as Record<string, unknown> };
}

/** The JSON-edited fields, in display order. */
export const JSON_FIELDS = ['firstMessages', 'voices', 'ttsVoices', 'dtmfMenu', 'tools'] as const;
export type JsonField = (typeof JSON_FIELDS)[number];

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

/** A new agent's form (the API fills in the rest of the defaults). */
export function emptyForm(): AgentForm {
  return {
    id: '',
    name: '',
    systemPrompt: '',
    firstMessage: '',
    languages: ['en'],
    defaultLanguage: 'en',
    intents: [],
    handoffNumber: '',
    maxCallDurationMs: '',
    voicemailMessage: '',
    optOutPhrases: [],
    vocabulary: [],
    isDefault: false,
    providers: { stt: '', llm: '', tts: '' },
    llmModel: '',
    llmTemperature: '',
    endpointing: { silenceMs: '', completeMs: '', continuingMs: '', minSpeechMs: '', bargeInMinSpeechMs: '', bargeIn: 'default' },
    json: { firstMessages: '{}', voices: '{}', ttsVoices: '{}', dtmfMenu: '{}', tools: '[]' },
    extractionSchema: '',
    csatSurvey: { enabled: false, prompt: '', otherPrompts: {}, timeoutMs: '' },
  };
}

/** The form of a stored agent (tools without `hasSecret`: an absent `secret` keeps the stored one). */
export function formOf(a: Agent): AgentForm {
  const e = a.endpointing ?? {};
  return {
    id: a.id,
    name: a.name,
    systemPrompt: a.systemPrompt,
    firstMessage: a.firstMessage,
    languages: a.languages,
    defaultLanguage: a.defaultLanguage,
    intents: a.intents,
    handoffNumber: a.handoffNumber ?? '',
    maxCallDurationMs: a.maxCallDurationMs ?? '',
    voicemailMessage: a.voicemailMessage ?? '',
    optOutPhrases: a.optOutPhrases,
    vocabulary: a.vocabulary ?? [],
    isDefault: a.isDefault,
    providers: { stt: a.providers?.stt ?? '', llm: a.providers?.llm ?? '', tts: a.providers?.tts ?? '' },
    llmModel: a.llm?.model ?? '',
    llmTemperature: a.llm?.temperature ?? '',
    endpointing: {
      silenceMs: e.silenceMs ?? '',
      completeMs: e.completeMs ?? '',
      continuingMs: e.continuingMs ?? '',
      minSpeechMs: e.minSpeechMs ?? '',
      bargeInMinSpeechMs: e.bargeInMinSpeechMs ?? '',
      bargeIn: e.bargeIn === undefined ? 'default' : e.bargeIn ? 'on' : 'off',
    },
    json: {
      firstMessages: pretty(a.firstMessages ?? {}),
      voices: pretty(a.voices ?? {}),
      ttsVoices: pretty(a.ttsVoices ?? {}),
      dtmfMenu: pretty(a.dtmfMenu ?? {}),
      tools: pretty(a.tools.map(({ hasSecret: _hasSecret, ...t }) => t)),
    },
    extractionSchema: a.extractionSchema ? pretty(a.extractionSchema) : '',
    csatSurvey: csatSurveyForm(a),
  };
}

/** The survey part of the form of a stored agent. */
function csatSurveyForm(a: Agent): AgentForm['csatSurvey'] {
  const { [a.defaultLanguage]: prompt = '', ...otherPrompts } = a.csatSurvey?.prompt ?? {};
  return { enabled: a.csatSurvey?.enabled ?? false, prompt, otherPrompts, timeoutMs: a.csatSurvey?.timeoutMs ?? '' };
}

/** The `csatSurvey` of a request body: the default language's prompt merged into the others' (absent when none). */
export function csatSurveyBody(f: Pick<AgentForm, 'csatSurvey' | 'defaultLanguage'>): Record<string, unknown> {
  const c = f.csatSurvey;
  const { [f.defaultLanguage]: _old, ...others } = c.otherPrompts;
  const prompt = c.prompt.trim() ? { ...others, [f.defaultLanguage]: c.prompt.trim() } : others;
  return defined({ enabled: c.enabled, prompt: Object.keys(prompt).length ? prompt : undefined, timeoutMs: num(c.timeoutMs) });
}

const num = (v: number | '') => (v === '' ? undefined : v);
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;

/**
 * The request body of a form: every field, nested maps parsed from their JSON (and the extraction schema checked by
 * {@link parseExtractionSchemaText}). Returns the JSON fields that do not parse or check instead (shown under them;
 * nothing is sent).
 */
export function bodyOf(f: AgentForm): { body: Record<string, unknown> } | { jsonErrors: Partial<Record<JsonField | 'extractionSchema', string>> } {
  const parsed: Record<string, unknown> = {};
  const jsonErrors: Partial<Record<JsonField | 'extractionSchema', string>> = {};
  for (const k of JSON_FIELDS) {
    try {
      parsed[k] = JSON.parse(f.json[k] || (k === 'tools' ? '[]' : '{}'));
    } catch (err) {
      jsonErrors[k] = `not valid JSON: ${(err as Error).message}`;
    }
  }
  const schema = parseExtractionSchemaText(f.extractionSchema);
  if ('problems' in schema) jsonErrors.extractionSchema = schema.problems.join('; ');
  else parsed.extractionSchema = schema.schema;
  if (Object.keys(jsonErrors).length) return { jsonErrors };
  const e = f.endpointing;
  return {
    body: {
      ...(f.id ? { id: f.id } : {}),
      name: f.name,
      systemPrompt: f.systemPrompt,
      firstMessage: f.firstMessage,
      languages: f.languages,
      defaultLanguage: f.defaultLanguage,
      intents: f.intents,
      handoffNumber: f.handoffNumber.trim() || null,
      maxCallDurationMs: num(f.maxCallDurationMs) ?? null,
      voicemailMessage: f.voicemailMessage.trim() || null,
      optOutPhrases: f.optOutPhrases,
      vocabulary: f.vocabulary,
      isDefault: f.isDefault,
      providers: defined(f.providers),
      llm: defined({ model: f.llmModel.trim() || undefined, temperature: num(f.llmTemperature) }),
      endpointing: defined({
        silenceMs: num(e.silenceMs),
        completeMs: num(e.completeMs),
        continuingMs: num(e.continuingMs),
        minSpeechMs: num(e.minSpeechMs),
        bargeInMinSpeechMs: num(e.bargeInMinSpeechMs),
        bargeIn: e.bargeIn === 'default' ? undefined : e.bargeIn === 'on',
      }),
      csatSurvey: csatSurveyBody(f),
      ...parsed,
    },
  };
}

/** A PATCH body: the fields of `next` that differ from `prev` (each given field replaces the stored one wholesale). */
export function changedFields(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) if (k !== 'id' && JSON.stringify(prev[k]) !== JSON.stringify(v)) out[k] = v;
  return out;
}
