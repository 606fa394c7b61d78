/**
 * A local double of the OpenAI REST API: one node:http server on 127.0.0.1:<ephemeral> speaking the wire format
 * of the four endpoints we use (see /work/shared/PROTOCOLS.md "OpenAI" and ./openai-wire.ts). Point the real
 * `openai` SDK at `baseURL` (it ends in `/v1`) with `apiKey`.
 *
 * Routes (all POST, `Authorization: Bearer <apiKey>` required, else 401 like the API):
 * - `/v1/audio/transcriptions` (`transcriptions`): multipart/form-data parsed with busboy; the file must be RIFF/WAVE.
 * - `/v1/chat/completions` (`chat`): JSON; `stream: true` → `text/event-stream` of `data: <chat.completion.chunk>\n\n`
 *   ending `data: [DONE]\n\n`; otherwise one `chat.completion`. `response_format` is validated like the API (strict
 *   json_schema: `additionalProperties: false` and every property required, else 400) and a json_schema request is
 *   answered with JSON matching the schema (scripted `json`, else a deterministic sample).
 * - `/v1/embeddings` (`embeddings`): JSON, float or base64 vectors, ≤ 2048 inputs.
 * - `/v1/audio/speech` (`speech`): raw 24 kHz PCM16 (`pcm`) or WAV, streamed in several chunks with small delays.
 * Anything else → 404 `Invalid URL (METHOD /path)`.
 *
 * Every request is recorded (method, path, headers, parsed body, response status, whether the response ended or
 * the client went away). Behaviour is scripted per route: `script(route, ...behaviours)` queues one-shot
 * behaviours consumed by the next requests on that route, in order; with an empty queue the route's default
 * (option `defaults`, else a built-in plausible reply) applies. A behaviour may be a function of the request.
 *
 * @example
 *   const openai = await startOpenAiDouble();
 *   openai.script('chat', { kind: 'error', status: 429, retryAfterS: 2 }, { kind: 'chat', content: ['Hi', ' there'] });
 *   const client = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, maxRetries: 0 });
 *   ...
 *   expect(openai.requestsTo('chat')[0].body).toMatchObject({ model: 'gpt-4o-mini', stream: true });
 *   await openai.close();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import {
  chatChunks,
  chatCompletion,
  defaultErrorMessage,
  embeddingsBody,
  maskKey,
  parseEmbeddingsBody,
  parseSpeechBody,
  parseTranscriptionForm,
  pseudoEmbedding,
  sampleForSchema,
  SPEECH_PCM_RATE,
  toneSpeechPcm,
  transcriptionBody,
  validateChatBody,
  WireError,
  wireError,
  type ChatScript,
  type MultipartBody,
  type MultipartFile,
} from './openai-wire';
import { encodeWav } from '../../src/audio/wav';

// busboy ships no type declarations; this is the part of its API (v1) used here.
const busboy = require('busboy') as (o: { headers: http.IncomingHttpHeaders }) => Writable;

export type OpenAiRoute = 'transcriptions' | 'chat' | 'embeddings' | 'speech';

const ROUTES: Record<string, OpenAiRoute> = {
  '/v1/audio/transcriptions': 'transcriptions',
  '/v1/chat/completions': 'chat',
  '/v1/embeddings': 'embeddings',
  '/v1/audio/speech': 'speech',
};

/** Pause a streamed response after `afterChunks` chunks (SSE events or audio chunks) until `until` settles. */
export interface Hold {
  afterChunks: number;
  until: Promise<unknown>;
}

/** Replies of each route (success paths). Unset fields take the built-in defaults. */
export interface TranscriptionReply {
  kind: 'transcription';
  text?: string;
  /** Whisper language name reported by verbose_json (`spanish`). Default: the `language` hint's English name, else `english`. */
  language?: string;
  segments?: Array<{ text: string; avg_logprob: number }>;
}
export interface ChatReply {
  kind: 'chat';
  /**
   * Content deltas, one chunk each. Default: the words of "Hello from the OpenAI double." (when no tool calls); for a
   * request with `response_format: json_schema`, one JSON document matching the schema (see `json`).
   */
  content?: string[];
  /** Structured outputs: the JSON value to answer (serialised as the content). Default: `sampleForSchema(schema)`. */
  json?: unknown;
  /** Tool calls; `arguments` are the fragments sent in successive chunks. */
  toolCalls?: Array<{ id: string; name: string; arguments: string[] }>;
  /** Interleave the tool calls' argument fragments across indexes (default: one call after the other, as OpenAI does). */
  interleaveToolCalls?: boolean;
  finishReason?: ChatScript['finishReason'];
  /** Delay before each SSE event after the first (ms). Default 0. */
  chunkDelayMs?: number;
  hold?: Hold;
  /** Destroy the socket after this many SSE events (a stream cut mid-way; no `[DONE]`). */
  cutAfterChunks?: number;
}
export interface EmbeddingsReply {
  kind: 'embeddings';
  /** Raw vectors per input (not normalised by the double). Default: deterministic unit vectors. */
  vectors?: number[][];
  /** Send `data` in reverse index order (the adapter must sort by `index`). */
  reverseOrder?: boolean;
}
export interface SpeechReply {
  kind: 'speech';
  /** PCM16 LE mono at 24 kHz to send. Default: a tone of 60 ms per input character (see toneSpeechPcm). */
  pcm?: Buffer;
  /** Bytes per body chunk. Default 4801 (odd on purpose: samples straddle chunk boundaries). */
  chunkBytes?: number;
  /** Delay between body chunks (ms). Default 5. */
  chunkDelayMs?: number;
  hold?: Hold;
  /** Destroy the socket after this many body chunks. */
  cutAfterChunks?: number;
}

/** Faults, for any route. */
export type Fault =
  /** An OpenAI error envelope with this status (message/type/code default to the API's wording); `retryAfterS` sets `retry-after`. */
  | { kind: 'error'; status: number; message?: string; type?: string; code?: string | null; retryAfterS?: number }
  /** Read the request, never answer (until close()). For client timeouts. */
  | { kind: 'hang' }
  /** 200 with a broken body: invalid JSON (JSON routes), a broken SSE event after the first chunk (chat stream), JSON instead of audio (speech). */
  | { kind: 'malformed' }
  /** 200, then the connection is destroyed mid-body (after `afterChunks` chunks on streams; default 1). */
  | { kind: 'cut'; afterChunks?: number }
  /** Send exactly this response. */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string | Buffer };

export type OpenAiBehaviour = Fault | TranscriptionReply | ChatReply | EmbeddingsReply | SpeechReply;
/** A behaviour, or a function choosing one from the recorded request. */
export type BehaviourSource = OpenAiBehaviour | ((req: RecordedRequest) => OpenAiBehaviour);

/** One request as the double received it. */
export interface RecordedRequest {
  method: string;
  /** URL path without the query, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  route?: OpenAiRoute;
  /** Parsed JSON body (application/json), else undefined. */
  body?: any;
  /** Parsed multipart/form-data body. */
  multipart?: MultipartBody;
  /** Whether the bearer key matched. */
  authorized: boolean;
  /** Status the double answered with (undefined while hanging). */
  status?: number;
  /** The response was completely sent. */
  ended: boolean;
  /** The client closed the connection before the response ended (abort / timeout). */
  clientClosed: boolean;
  /** Chunks (SSE events or audio chunks) written so far. */
  chunksSent: number;
}

export interface OpenAiDouble {
  /** `http://127.0.0.1:<port>/v1` — the SDK's `baseURL`. */
  baseURL: string;
  /** The key the double accepts (`Authorization: Bearer <apiKey>`). */
  apiKey: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Requests to one route. */
  requestsTo(route: OpenAiRoute): RecordedRequest[];
  /** Queues one-shot behaviours for the next requests on `route`, in order. */
  script(route: OpenAiRoute, ...behaviours: BehaviourSource[]): void;
  /** Clears recorded requests and every route's queue. */
  reset(): void;
  /** Ends hanging/held responses, closes all connections and the server. */
  close(): Promise<void>;
}

export interface OpenAiDoubleOptions {
  /** Accepted key. Default `sk-test-openai-double-0123456789abcdef`. */
  apiKey?: string;
  /** Behaviour per route when its queue is empty. */
  defaults?: Partial<Record<OpenAiRoute, BehaviourSource>>;
}

const DEFAULT_KIND: Record<OpenAiRoute, OpenAiBehaviour['kind']> = {
  transcriptions: 'transcription',
  chat: 'chat',
  embeddings: 'embeddings',
  speech: 'speech',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WHISPER_NAMES = new Intl.DisplayNames(['en'], { type: 'language' });

/** Starts the double on 127.0.0.1 with an ephemeral port. */
export async function startOpenAiDouble(o: OpenAiDoubleOptions = {}): Promise<OpenAiDouble> {
  const apiKey = o.apiKey ?? 'sk-test-openai-double-0123456789abcdef';
  const requests: RecordedRequest[] = [];
  const queues = new Map<OpenAiRoute, BehaviourSource[]>();
  let seq = 0;
  let closing = false;
  let onClosing!: () => void;
  const closed = new Promise<void>((r) => (onClosing = r));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, wireError(500, `openai-double: ${String(e)}`).body);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const raw = await readBody(req);
    const rec: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      route: req.method === 'POST' ? ROUTES[url.pathname] : undefined,
      authorized: req.headers.authorization === `Bearer ${apiKey}`,
      ended: false,
      clientClosed: false,
      chunksSent: 0,
    };
    requests.push(rec);
    res.on('finish', () => (rec.ended = true));
    res.on('close', () => {
      if (!rec.ended && !cutSockets.has(res)) rec.clientClosed = true;
    });
    const requestId = `req_double_${++seq}`;
    res.setHeader('x-request-id', requestId);
    res.setHeader('openai-version', '2020-10-01');
    res.setHeader('openai-processing-ms', '1');

    const ctype = String(req.headers['content-type'] ?? '');
    try {
      if (ctype.startsWith('application/json')) {
        try {
          rec.body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          throw wireError(400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)');
        }
      } else if (ctype.startsWith('multipart/form-data')) {
        rec.multipart = await parseMultipart(req.headers, raw);
      }
      if (!req.headers.authorization) {
        throw wireError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
      }
      if (!rec.authorized) {
        const given = req.headers.authorization.replace(/^Bearer\s+/i, '');
        throw wireError(401, `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`, { code: 'invalid_api_key' });
      }
      if (!rec.route) throw wireError(404, `Invalid URL (${req.method} ${url.pathname})`);
      const b = next(rec.route, rec);
      if (b.kind === 'error') {
        const d = defaultErrorMessage(b.status);
        if (b.retryAfterS !== undefined) res.setHeader('retry-after', String(b.retryAfterS));
        throw wireError(b.status, b.message ?? d.message, { type: b.type, code: b.code === undefined ? d.code : b.code });
      }
      if (b.kind === 'hang') {
        await closed;
        return;
      }
      if (b.kind === 'raw') {
        res.writeHead(b.status ?? 200, b.headers ?? {});
        res.end(b.body);
        rec.status = b.status ?? 200;
        return;
      }
      await ROUTE_HANDLERS[rec.route](rec, res, b);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      rec.status = e.status;
      sendJson(res, e.status, e.body);
    }
  }

  function next(route: OpenAiRoute, rec: RecordedRequest): OpenAiBehaviour {
    const q = queues.get(route);
    const src = q?.length ? q.shift()! : (o.defaults?.[route] ?? ({ kind: DEFAULT_KIND[route] } as OpenAiBehaviour));
    return typeof src === 'function' ? src(rec) : src;
  }

  // ------------------------------------------------------------ writing helpers
  const cutSockets = new WeakSet<http.ServerResponse>();
  function cut(res: http.ServerResponse): void {
    cutSockets.add(res);
    res.socket?.destroy();
    res.destroy();
  }
  async function writeChunk(rec: RecordedRequest, res: http.ServerResponse, data: string | Buffer, o: { delayMs?: number; hold?: Hold; cutAfter?: number }): Promise<boolean> {
    if (o.hold && rec.chunksSent === o.hold.afterChunks) await Promise.race([o.hold.until, closed]);
    if (o.cutAfter !== undefined && rec.chunksSent >= o.cutAfter) {
      cut(res);
      return false;
    }
    if (rec.chunksSent > 0 && o.delayMs) await sleep(o.delayMs);
    if (res.destroyed || closing) return false;
    // Wait until the chunk is handed to the socket, so a later cut cannot drop it.
    await new Promise<void>((resolve) => res.write(data, () => resolve()));
    rec.chunksSent++;
    return true;
  }
  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  /** A fault that depends on the body kind: malformed / cut for a JSON route. */
  function jsonFault(rec: RecordedRequest, res: http.ServerResponse, b: OpenAiBehaviour): boolean {
    if (b.kind === 'malformed') {
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object": "list", "data": [{"embedding": [0.1, 0.2');
      return true;
    }
    if (b.kind === 'cut') {
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"text": "the connection was cu', () => cut(res));
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------ routes
  const ROUTE_HANDLERS: Record<OpenAiRoute, (rec: RecordedRequest, res: http.ServerResponse, b: OpenAiBehaviour) => Promise<void>> = {
    async transcriptions(rec, res, b) {
      if (!rec.multipart) throw wireError(400, "Invalid Content-Type header (expected multipart/form-data).");
      const form = parseTranscriptionForm(rec.multipart);
      if (jsonFault(rec, res, b)) return;
      const r = b.kind === 'transcription' ? b : { kind: 'transcription' as const };
      const hintName = form.language ? safeName(form.language) : undefined;
      const body = transcriptionBody(form.format, { text: r.text ?? 'Hello from the OpenAI double.', language: r.language ?? hintName ?? 'english', segments: r.segments }, form.durationS);
      rec.status = 200;
      if (body.text !== undefined) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(body.text);
      } else sendJson(res, 200, body.json);
    },

    async chat(rec, res, b) {
      const p = validateChatBody(rec.body);
      const r: ChatReply = b.kind === 'chat' ? b : { kind: 'chat' };
      const toolCalls = r.toolCalls ?? [];
      const structured = p.jsonSchema && !toolCalls.length && !r.content ? [JSON.stringify(r.json ?? sampleForSchema(p.jsonSchema))] : undefined;
      const script: ChatScript = {
        content: r.content ?? structured ?? (toolCalls.length ? [] : ['Hello', ' from', ' the', ' OpenAI', ' double.']),
        toolCalls,
        interleaveToolCalls: r.interleaveToolCalls,
        finishReason: r.finishReason,
      };
      const meta = { id: `chatcmpl-double${seq}`, model: p.model, created: Math.floor(Date.now() / 1000) };
      if (!p.stream) {
        if (jsonFault(rec, res, b)) return;
        rec.status = 200;
        return sendJson(res, 200, chatCompletion(script, meta));
      }
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const events = chatChunks(script, { ...meta, includeUsage: p.includeUsage });
      const cutAfter = b.kind === 'cut' ? b.afterChunks ?? 1 : r.cutAfterChunks;
      for (let i = 0; i < events.length; i++) {
        if (b.kind === 'malformed' && i === 1) {
          res.end(`data: {"id":"${meta.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"bro\n\n`);
          return;
        }
        if (!(await writeChunk(rec, res, `data: ${JSON.stringify(events[i])}\n\n`, { delayMs: r.chunkDelayMs, hold: r.hold, cutAfter }))) return;
      }
      if (cutAfter !== undefined) return cut(res);
      res.end('data: [DONE]\n\n');
    },

    async embeddings(rec, res, b) {
      const p = parseEmbeddingsBody(rec.body);
      if (jsonFault(rec, res, b)) return;
      const r = b.kind === 'embeddings' ? b : { kind: 'embeddings' as const };
      const vectors = r.vectors ?? p.inputs.map((t) => pseudoEmbedding(t, p.dims));
      if (vectors.length !== p.inputs.length) throw new Error(`scripted ${vectors.length} vectors for ${p.inputs.length} inputs`);
      const order = vectors.map((_, i) => i);
      if ('reverseOrder' in r && r.reverseOrder) order.reverse();
      const tokens = p.inputs.reduce((a, t) => a + Math.ceil(t.length / 4), 0);
      rec.status = 200;
      sendJson(res, 200, embeddingsBody(vectors, { model: p.model, format: p.format, order, tokens }));
    },

    async speech(rec, res, b) {
      const p = parseSpeechBody(rec.body);
      rec.status = 200;
      if (b.kind === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"object": "audio", "data": null');
        return;
      }
      const r: SpeechReply = b.kind === 'speech' ? b : { kind: 'speech' };
      const pcm = r.pcm ?? toneSpeechPcm(p.input);
      const payload = p.format === 'wav' ? encodeWav({ samples: new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1))), sampleRate: SPEECH_PCM_RATE }) : pcm;
      res.writeHead(200, { 'content-type': p.format === 'wav' ? 'audio/wav' : 'audio/pcm', 'transfer-encoding': 'chunked' });
      const size = r.chunkBytes ?? 4801;
      const cutAfter = b.kind === 'cut' ? b.afterChunks ?? 1 : r.cutAfterChunks;
      for (let off = 0; off < payload.length; off += size) {
        const ok = await writeChunk(rec, res, payload.subarray(off, Math.min(off + size, payload.length)), { delayMs: r.chunkDelayMs ?? 5, hold: r.hold, cutAfter });
        if (!ok) return;
      }
      if (cutAfter !== undefined) return cut(res);
      res.end();
    },
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    requestsTo: (route) => requests.filter((r) => r.route === route),
    script(route, ...behaviours) {
      const q = queues.get(route) ?? [];
      q.push(...behaviours);
      queues.set(route, q);
    },
    reset() {
      requests.length = 0;
      queues.clear();
    },
    async close() {
      closing = true;
      onClosing();
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await done;
    },
  };
}

/** Whisper-style lower-case English name of an ISO 639-1 hint (`es` → `spanish`). */
function safeName(code: string): string | undefined {
  try {
    return WHISPER_NAMES.of(code)?.toLowerCase();
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Parses a complete multipart/form-data body with busboy (fields and files; repeated fields become arrays). */
function parseMultipart(headers: http.IncomingHttpHeaders, raw: Buffer): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string | string[]> = {};
    const files: MultipartFile[] = [];
    const pending: Array<Promise<void>> = [];
    let bb: Writable;
    try {
      bb = busboy({ headers });
    } catch (e) {
      return reject(wireError(400, `Invalid multipart/form-data: ${String(e)}`));
    }
    bb.on('field', (name: string, value: string) => {
      const prev = fields[name];
      fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });
    bb.on('file', (field: string, stream: NodeJS.ReadableStream, info: { filename: string; mimeType: string }) => {
      const parts: Buffer[] = [];
      pending.push(
        new Promise((done) => {
          stream.on('data', (c: Buffer) => parts.push(c));
          stream.on('end', () => {
            files.push({ field, filename: info.filename, mimeType: info.mimeType, data: Buffer.concat(parts) });
            done();
          });
        }),
      );
    });
    bb.on('close', () => Promise.all(pending).then(() => resolve({ fields, files })));
    bb.on('error', (e: unknown) => reject(wireError(400, `Invalid multipart/form-data: ${String(e)}`)));
    bb.end(raw);
  });
}
