/**
 * OpenAI REST wire format for the local double (test/doubles/openai-double.ts): request validation and response
 * bodies of the four endpoints we use, shaped after the API reference (https://platform.openai.com/docs/api-reference)
 * and the `openai` SDK's types (node_modules/openai/resources/**): transcriptions, chat completions (JSON and SSE
 * `chat.completion.chunk` streams), embeddings (float and base64), speech (raw PCM).
 */
import { readWavHeader } from '../../src/audio/wav';

/** The OpenAI error envelope: `{ error: { message, type, param, code } }`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error response: HTTP status plus the envelope. */
export class WireError extends Error {
  constructor(readonly status: number, readonly body: OpenAiErrorBody) {
    super(body.error.message);
  }
}

/** Builds a WireError with OpenAI's usual `type` for the status (`invalid_request_error`, `server_error`, …). */
export function wireError(status: number, message: string, o: { type?: string; param?: string | null; code?: string | null } = {}): WireError {
  const type = o.type ?? (status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error');
  return new WireError(status, { error: { message, type, param: o.param ?? null, code: o.code ?? null } });
}

/** Default messages of scripted errors, as the real API words them. */
export function defaultErrorMessage(status: number): { message: string; code: string | null } {
  if (status === 429) return { message: 'Rate limit reached for requests. Please try again in 1s.', code: 'rate_limit_exceeded' };
  if (status === 401) return { message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', code: 'invalid_api_key' };
  if (status === 503) return { message: 'The engine is currently overloaded, please try again later.', code: null };
  if (status >= 500) return { message: 'The server had an error while processing your request. Sorry about that!', code: null };
  return { message: `Request failed with status ${status}.`, code: null };
}

/** OpenAI's own masking of a wrong key in 401 messages: first 3 and last 4 characters. */
export function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(Math.min(20, key.length - 7))}${key.slice(-4)}`;
}

// ---------------------------------------------------------------- transcriptions

/** One uploaded file of a multipart request. */
export interface MultipartFile {
  field: string;
  filename: string;
  mimeType: string;
  data: Buffer;
}

/** The form fields and files of a multipart/form-data request (a repeated field keeps every value, in order). */
export interface MultipartBody {
  fields: Record<string, string | string[]>;
  files: MultipartFile[];
}

/** What a transcription replies with (text, detected language as Whisper names it, optional segments). */
export interface TranscriptionScript {
  text: string;
  /** Whisper language name (`english`, `spanish`…); reported in verbose_json only. */
  language: string;
  /** verbose_json segments; default one segment over the whole audio with avg_logprob -0.25. */
  segments?: Array<{ text: string; avg_logprob: number }>;
}

export const TRANSCRIPTION_FORMATS = ['json', 'text', 'verbose_json'] as const;

/**
 * Validates a `POST /v1/audio/transcriptions` form like the API: `file` and `model` required, the file must be a
 * RIFF/WAVE file (the only container this double decodes), `response_format` json|text|verbose_json, and the
 * gpt-4o transcribe models accept only json/text.
 * @returns the parsed parameters; throws a WireError (400) otherwise.
 */
export function parseTranscriptionForm(form: MultipartBody): { model: string; format: string; language?: string; durationS: number } {
  const one = (k: string) => (Array.isArray(form.fields[k]) ? (form.fields[k] as string[]).at(-1) : (form.fields[k] as string | undefined));
  const file = form.files.find((f) => f.field === 'file');
  if (!file) throw wireError(400, "1 validation error for Request\nbody -> file\n  field required", { param: 'file' });
  const model = one('model');
  if (!model) throw wireError(400, 'you must provide a model parameter', { param: 'model' });
  let header;
  try {
    header = readWavHeader(file.data);
  } catch {
    header = null;
  }
  if (!header) {
    throw wireError(400, "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']", { param: 'file' });
  }
  const format = one('response_format') ?? 'json';
  if (!(TRANSCRIPTION_FORMATS as readonly string[]).includes(format)) {
    throw wireError(400, `openai-double: response_format '${format}' is not implemented (json, text, verbose_json)`, { param: 'response_format' });
  }
  if (/^gpt-4o/.test(model) && format === 'verbose_json') {
    throw wireError(400, `response_format 'verbose_json' is not compatible with model '${model}'. Use 'json' or 'text' instead.`, {
      param: 'response_format',
      code: 'unsupported_value',
    });
  }
  const dataBytes = header.dataBytes ?? file.data.length - header.dataOffset;
  const durationS = dataBytes / (header.sampleRate * header.channels * 2);
  if (durationS < 0.1) throw wireError(400, 'Audio file is too short. Minimum audio length is 0.1 seconds.', { param: 'file', code: 'audio_too_short' });
  return { model, format, language: one('language'), durationS };
}

/** The response body of a transcription: JSON object (json / verbose_json) or plain text. */
export function transcriptionBody(format: string, s: TranscriptionScript, durationS: number): { json?: unknown; text?: string } {
  if (format === 'text') return { text: `${s.text}\n` };
  if (format === 'json') return { json: { text: s.text, usage: { type: 'duration', seconds: Math.ceil(durationS) } } };
  const segs = s.segments ?? [{ text: s.text, avg_logprob: -0.25 }];
  const step = durationS / Math.max(1, segs.length);
  return {
    json: {
      task: 'transcribe',
      language: s.language,
      duration: Math.round(durationS * 100) / 100,
      text: s.text,
      segments: segs.map((g, i) => ({
        id: i,
        seek: 0,
        start: Math.round(i * step * 100) / 100,
        end: Math.round((i + 1) * step * 100) / 100,
        text: g.text,
        tokens: [],
        temperature: 0,
        avg_logprob: g.avg_logprob,
        compression_ratio: 1.2,
        no_speech_prob: 0.01,
      })),
      usage: { type: 'duration', seconds: Math.ceil(durationS) },
    },
  };
}

// ---------------------------------------------------------------- chat completions

/** A scripted assistant reply: content deltas in order, and tool calls whose arguments arrive in pieces. */
export interface ChatScript {
  content: string[];
  toolCalls: Array<{ id: string; name: string; arguments: string[] }>;
  /** Interleave tool-call argument fragments round-robin across indexes (valid wire format; tests merge-by-index). */
  interleaveToolCalls?: boolean;
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/**
 * Validates a `POST /v1/chat/completions` body like the API (model, non-empty messages with known roles, tool
 * messages answering a tool_call_id, function tools with names). Throws a WireError (400) otherwise.
 */
export function validateChatBody(body: unknown): { model: string; stream: boolean; includeUsage: boolean; jsonSchema?: Record<string, unknown> } {
  if (!body || typeof body !== 'object') throw wireError(400, 'We could not parse the JSON body of your request.');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) throw wireError(400, 'you must provide a model parameter', { param: 'model' });
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw wireError(400, "'messages' must contain at least 1 item", { param: 'messages' });
  b.messages.forEach((m: unknown, i) => {
    const msg = m as Record<string, unknown>;
    if (!msg || !ROLES.has(msg.role as string)) throw wireError(400, `Invalid value for 'messages[${i}].role'.`, { param: `messages[${i}].role` });
    if (msg.role === 'tool' && typeof msg.tool_call_id !== 'string') {
      throw wireError(400, `Missing required parameter: 'messages[${i}].tool_call_id'.`, { param: `messages[${i}].tool_call_id` });
    }
    const hasToolCalls = msg.role === 'assistant' && Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0;
    if (typeof msg.content !== 'string' && !Array.isArray(msg.content) && !hasToolCalls) {
      throw wireError(400, `Invalid value for 'messages[${i}].content': expected a string.`, { param: `messages[${i}].content` });
    }
  });
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) throw wireError(400, "Invalid type for 'tools': expected an array.", { param: 'tools' });
    b.tools.forEach((t: unknown, i) => {
      const tool = t as { type?: unknown; function?: { name?: unknown } };
      if (tool?.type !== 'function' || typeof tool.function?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.function.name)) {
        throw wireError(400, `Invalid 'tools[${i}]': expected { type: 'function', function: { name } }.`, { param: `tools[${i}]` });
      }
    });
  }
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  const jsonSchema = validateResponseFormat(b.response_format);
  return { model: b.model, stream: b.stream === true, includeUsage: so?.include_usage === true, jsonSchema };
}

/**
 * Validates `response_format` like the API (structured outputs, platform.openai.com/docs/guides/structured-outputs):
 * `{ type: 'text' }`, `{ type: 'json_object' }` or `{ type: 'json_schema', json_schema: { name (a-zA-Z0-9_- ≤ 64),
 * strict?, schema } }`. With `strict: true` every object in the schema must have `additionalProperties: false` and
 * list every property in `required` (the API answers 400 `invalid_request_error` otherwise).
 * @returns the schema for `json_schema`, else undefined. @throws WireError 400.
 */
export function validateResponseFormat(rf: unknown): Record<string, unknown> | undefined {
  if (rf === undefined) return undefined;
  const f = rf as { type?: unknown; json_schema?: { name?: unknown; strict?: unknown; schema?: unknown } };
  if (f?.type === 'text' || f?.type === 'json_object') return undefined;
  if (f?.type !== 'json_schema') throw wireError(400, "Invalid value for 'response_format.type': expected one of 'text', 'json_object', 'json_schema'.", { param: 'response_format.type' });
  const js = f.json_schema;
  if (!js || typeof js.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(js.name)) {
    throw wireError(400, "Missing required parameter: 'response_format.json_schema.name'.", { param: 'response_format.json_schema.name' });
  }
  if (!js.schema || typeof js.schema !== 'object') throw wireError(400, "Missing required parameter: 'response_format.json_schema.schema'.", { param: 'response_format.json_schema.schema' });
  if (js.strict === true) checkStrict(js.schema as Record<string, unknown>, 'schema');
  return js.schema as Record<string, unknown>;
}

function checkStrict(node: Record<string, unknown>, path: string): void {
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('object')) {
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    if (node.additionalProperties !== false) {
      throw wireError(400, `Invalid schema for response_format: In context=(${path}), 'additionalProperties' is required to be supplied and to be false.`, { param: 'response_format', code: 'invalid_json_schema' });
    }
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    for (const k of Object.keys(props)) {
      if (!required.has(k)) throw wireError(400, `Invalid schema for response_format: In context=(${path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${k}'.`, { param: 'response_format', code: 'invalid_json_schema' });
      checkStrict(props[k], `${path}, 'properties', '${k}'`);
    }
  }
}

/**
 * A JSON value matching a (strict-mode) JSON schema, deterministic: the first enum value that is not null, a string
 * `"<property> value"` (ISO date-time for a description mentioning date-time), 1 for numbers, true for booleans,
 * objects with every property. What a model under structured outputs returns, shape-wise.
 */
export function sampleForSchema(node: Record<string, unknown>, name = 'value'): unknown {
  if (Array.isArray(node.enum)) return node.enum.find((v) => v !== null) ?? null;
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter((t) => t !== 'null');
  switch (types[0]) {
    case 'object':
      return Object.fromEntries(Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>).map(([k, v]) => [k, sampleForSchema(v, k)]));
    case 'array':
      return [sampleForSchema((node.items ?? {}) as Record<string, unknown>, name)];
    case 'string':
      return /date-time/.test(String(node.description ?? '')) ? '2026-12-04T15:00:00Z' : `${name} value`;
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/**
 * The SSE events (`chat.completion.chunk` objects, without the `data: ` framing) of a streamed reply, as OpenAI
 * sends them: a first chunk with `role: 'assistant'`, one chunk per content delta, per tool call a first fragment
 * `{ index, id, type: 'function', function: { name, arguments: '' } }` followed by `{ index, function: { arguments } }`
 * fragments, a final chunk with an empty delta and `finish_reason`, then (with `stream_options.include_usage`) a
 * usage chunk with `choices: []`. The caller writes `data: [DONE]` after them.
 */
export function chatChunks(s: ChatScript, o: { id: string; model: string; created: number; includeUsage: boolean }): unknown[] {
  const base = { id: o.id, object: 'chat.completion.chunk', created: o.created, model: o.model, service_tier: 'default', system_fingerprint: 'fp_double' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const out: unknown[] = [chunk({ role: 'assistant', content: s.content.length ? '' : null, refusal: null })];
  for (const c of s.content) out.push(chunk({ content: c }));
  const heads = s.toolCalls.map((t, index) => ({ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }));
  const pieces = s.toolCalls.map((t, index) => t.arguments.map((a) => ({ index, function: { arguments: a } })));
  if (s.interleaveToolCalls) {
    for (const h of heads) out.push(chunk({ tool_calls: [h] }));
    for (let k = 0; pieces.some((p) => k < p.length); k++) for (const p of pieces) if (k < p.length) out.push(chunk({ tool_calls: [p[k]] }));
  } else {
    heads.forEach((h, i) => {
      out.push(chunk({ tool_calls: [h] }));
      for (const p of pieces[i]) out.push(chunk({ tool_calls: [p] }));
    });
  }
  out.push(chunk({}, s.finishReason ?? (s.toolCalls.length ? 'tool_calls' : 'stop')));
  if (o.includeUsage) out.push({ ...base, choices: [], usage: chatUsage(s) });
  return out;
}

function chatUsage(s: ChatScript) {
  const completion = s.content.length + s.toolCalls.reduce((a, t) => a + t.arguments.length + 1, 0);
  return { prompt_tokens: 50, completion_tokens: completion, total_tokens: 50 + completion };
}

/** The non-streamed `chat.completion` object of a reply. */
export function chatCompletion(s: ChatScript, o: { id: string; model: string; created: number }): unknown {
  const toolCalls = s.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments.join('') } }));
  return {
    id: o.id,
    object: 'chat.completion',
    created: o.created,
    model: o.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: s.content.length ? s.content.join('') : null, refusal: null, annotations: [], ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: s.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
      },
    ],
    usage: chatUsage(s),
    service_tier: 'default',
    system_fingerprint: 'fp_double',
  };
}

// ---------------------------------------------------------------- embeddings

/** Native sizes of the embedding models (and whether they accept `dimensions`). */
const EMBEDDING_MODELS: Record<string, { dims: number; shortenable: boolean }> = {
  'text-embedding-3-small': { dims: 1536, shortenable: true },
  'text-embedding-3-large': { dims: 3072, shortenable: true },
  'text-embedding-ada-002': { dims: 1536, shortenable: false },
};

/**
 * Validates a `POST /v1/embeddings` body like the API: known model, `input` a non-empty string or an array of
 * 1..2048 non-empty strings, `dimensions` a positive integer ≤ the native size (text-embedding-3 only),
 * `encoding_format` float|base64. Throws a WireError (400) otherwise.
 */
export function parseEmbeddingsBody(body: unknown): { model: string; inputs: string[]; dims: number; format: 'float' | 'base64' } {
  const b = (body ?? {}) as Record<string, unknown>;
  const model = b.model;
  if (typeof model !== 'string' || !EMBEDDING_MODELS[model]) {
    throw wireError(404, `The model \`${String(model)}\` does not exist or you do not have access to it.`, { code: 'model_not_found' });
  }
  const inputs = typeof b.input === 'string' ? [b.input] : b.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 2048 || inputs.some((s) => typeof s !== 'string' || s === '')) {
    throw wireError(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", { param: 'input' });
  }
  const m = EMBEDDING_MODELS[model];
  let dims = m.dims;
  if (b.dimensions !== undefined) {
    if (!m.shortenable) throw wireError(400, 'This model does not support specifying dimensions.', { param: 'dimensions' });
    if (!Number.isInteger(b.dimensions) || (b.dimensions as number) < 1 || (b.dimensions as number) > m.dims) {
      throw wireError(400, `Invalid value for 'dimensions' = ${String(b.dimensions)}. Must be between 1 and ${m.dims}.`, { param: 'dimensions' });
    }
    dims = b.dimensions as number;
  }
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw wireError(400, `Invalid value for 'encoding_format': ${String(format)}.`, { param: 'encoding_format' });
  return { model, inputs: inputs as string[], dims, format };
}

/** A deterministic unit vector for `text` (seeded by an FNV-1a hash of it; like the API's, L2 norm 1). */
export function pseudoEmbedding(text: string, dims: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const v: number[] = [];
  for (let i = 0; i < dims; i++) {
    // mulberry32
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    v.push(((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1);
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

/** The `list` response; `order` lists the indexes in the order to send them (default ascending). */
export function embeddingsBody(vectors: number[][], o: { model: string; format: 'float' | 'base64'; order?: number[]; tokens: number }): unknown {
  const order = o.order ?? vectors.map((_, i) => i);
  return {
    object: 'list',
    data: order.map((index) => ({
      object: 'embedding',
      index,
      embedding: o.format === 'base64' ? Buffer.from(new Float32Array(vectors[index]).buffer).toString('base64') : vectors[index],
    })),
    model: o.model,
    usage: { prompt_tokens: o.tokens, total_tokens: o.tokens },
  };
}

// ---------------------------------------------------------------- speech

export const SPEECH_PCM_RATE = 24_000;

/**
 * Validates a `POST /v1/audio/speech` body like the API: model, voice, input (1..4096 characters), `instructions`
 * not with tts-1/tts-1-hd; `response_format` pcm|wav (the formats this double produces; default mp3 is refused).
 */
export function parseSpeechBody(body: unknown): { model: string; voice: string; input: string; format: 'pcm' | 'wav'; instructions?: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) throw wireError(400, 'you must provide a model parameter', { param: 'model' });
  if (typeof b.input !== 'string' || b.input.length === 0) throw wireError(400, "Missing required parameter: 'input'.", { param: 'input' });
  if (b.input.length > 4096) throw wireError(400, `'${b.input.slice(0, 20)}…' is too long - 'input'`, { param: 'input', code: 'string_above_max_length' });
  const voice = typeof b.voice === 'string' ? b.voice : (b.voice as { id?: unknown } | undefined)?.id;
  if (typeof voice !== 'string' || !voice) throw wireError(400, "Missing required parameter: 'voice'.", { param: 'voice' });
  if (b.instructions !== undefined && /^tts-1/.test(b.model)) throw wireError(400, 'Instructions are not supported for this model.', { param: 'instructions' });
  const format = b.response_format ?? 'mp3';
  if (format !== 'pcm' && format !== 'wav') {
    throw wireError(400, `openai-double: response_format '${String(format)}' is not implemented (pcm, wav)`, { param: 'response_format' });
  }
  return { model: b.model, voice, input: b.input, format, instructions: typeof b.instructions === 'string' ? b.instructions : undefined };
}

/**
 * Stand-in speech for `text`: 24 kHz PCM16 LE mono, 60 ms per character (at least 300 ms), a 220 + 440 Hz tone at
 * moderate level with 10 ms fades. Deterministic.
 */
export function toneSpeechPcm(text: string): Buffer {
  const n = Math.round(SPEECH_PCM_RATE * Math.max(0.3, 0.06 * text.length));
  const b = Buffer.alloc(n * 2);
  const fade = SPEECH_PCM_RATE / 100;
  for (let i = 0; i < n; i++) {
    const t = i / SPEECH_PCM_RATE;
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    b.writeInt16LE(Math.round(env * (6000 * Math.sin(2 * Math.PI * 220 * t) + 3000 * Math.sin(2 * Math.PI * 440 * t))), 2 * i);
  }
  return b;
}
