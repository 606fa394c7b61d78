import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulawEncodeSample } from '../../src/audio/mulaw';

/**
 * Local stand-in for the ElevenLabs streaming text-to-speech HTTP API, for tests that drive the official
 * `@elevenlabs/elevenlabs-js` SDK (pass `baseUrl` to the client). Wire format per /work/shared/PROTOCOLS.md
 * ("ElevenLabs TTS") and the SDK 2.x sources:
 *
 * - `POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000[&optimize_streaming_latency=N]`
 * - header `xi-api-key: <key>`; JSON body in snake_case: `text` (required), `model_id`, `language_code`,
 *   `voice_settings`, `seed`, `previous_text`, `next_text`, ... (recorded as sent).
 * - 200 → `Content-Type: audio/basic`, chunked transfer, raw 8 kHz mu-law bytes (no header), sent in
 *   `chunkBytes` pieces `chunkDelayMs` apart. The content type ElevenLabs really sends for ulaw is *unverified*;
 *   the SDK ignores it.
 * - Errors use ElevenLabs' JSON shape `{"detail":{"status":"…","message":"…"}}` (422: `{"detail":[{loc,msg,type}]}`):
 *   401 `invalid_api_key` when the key is missing or differs from `apiKey`; 404 `voice_not_found` when `voices`
 *   is given and does not list the voice; 422 when `text` is not a non-empty string; 400 for an `output_format`
 *   other than `ulaw_8000` (the only format this double renders — a real server would stream mp3/pcm/...).
 *
 * Audio: {@link renderUlaw} — deterministic and content-dependent (per character a 40 ms tone whose pitch comes
 * from the character and the voice id; 30 ms of silence per whitespace), so different text gives different
 * bytes. Every request is recorded, with the exact bytes streamed for it.
 *
 * Scripting (consumed by the next requests, in order; see {@link ElevenLabsStep}):
 * ```ts
 * const el = await startElevenLabsDouble({ apiKey: 'test-key' });
 * el.script({ kind: 'status', status: 429 });          // next request → 429
 * el.script({ kind: 'status', status: 500 }, 3);       // next three requests → 500
 * el.script({ kind: 'hang' });                          // never answers (client timeout)
 * el.script({ kind: 'cut', afterBytes: 800 });         // streams 800 bytes, then destroys the socket
 * el.script({ kind: 'stall', afterBytes: 800 });       // streams 800 bytes, then sends nothing more
 * el.script({ kind: 'pause', afterChunks: 1 });        // streams 1 chunk, waits for el.resume(), then the rest
 * new ElevenLabsClient({ apiKey: 'test-key', baseUrl: el.baseUrl });
 * el.requests[0].streamed;                             // Buffer: every byte sent for that request
 * await el.close();
 * ```
 */

/** One scripted behaviour for one request. */
export type ElevenLabsStep =
  /** Answer with this HTTP status and an ElevenLabs-shaped JSON error body (or `body`), before any audio. */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Read the request and never answer (exercises client timeouts and aborts). */
  | { kind: 'hang' }
  /** Send 200, stream `afterBytes` bytes of audio, then destroy the socket (truncated chunked body). */
  | { kind: 'cut'; afterBytes: number }
  /** Send 200, stream `afterBytes` bytes of audio, then send nothing more and keep the socket open. */
  | { kind: 'stall'; afterBytes: number }
  /** Stream `afterChunks` chunks, then wait for {@link ElevenLabsDouble.resume} before streaming the rest. */
  | { kind: 'pause'; afterChunks: number };

/** What the double saw and did for one request. */
export interface ElevenLabsRequest {
  method: string;
  /** URL path without the query, e.g. `/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream`. */
  path: string;
  /** `voice_id` path segment (URL-decoded) when the path matches the stream endpoint, else null. */
  voiceId: string | null;
  /** Query parameters (last value wins). */
  query: Record<string, string>;
  /** Request headers as Node parsed them (names lower-cased). */
  headers: IncomingHttpHeaders;
  /** Raw request body (UTF-8). */
  rawBody: string;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: any;
  /** Status sent; 0 while/if no status line was sent (`hang`). */
  status: number;
  /** Every audio byte written for this request, in order (a copy of the chunks). */
  streamed: Buffer;
  /** Number of audio chunks written. */
  chunks: number;
  /** The full audio the double intended to stream (its `renderUlaw` output); `streamed` equals it when `finished`. */
  audio: Buffer;
  /** True once the response ended normally. */
  finished: boolean;
  /** True when the client closed the connection before the response ended. */
  clientClosed: boolean;
  /** Scripted step used for this request, if any. */
  step?: ElevenLabsStep;
}

export interface ElevenLabsDoubleOptions {
  /** Accepted `xi-api-key`; when unset any non-empty key is accepted. */
  apiKey?: string;
  /** Known voice ids; when set, other voices get 404 `voice_not_found`. */
  voices?: string[];
  /** Bytes per streamed chunk (8 kHz mu-law: 160 = 20 ms). Default 1600 (200 ms). */
  chunkBytes?: number;
  /** Delay between chunks (ms). Default 5. */
  chunkDelayMs?: number;
  /** Delay before the response headers (ms). Default 0. */
  firstByteDelayMs?: number;
}

export interface ElevenLabsDouble {
  /** `http://127.0.0.1:<port>` — pass as the SDK's `baseUrl`. */
  baseUrl: string;
  /** Every request received, in arrival order. */
  requests: ElevenLabsRequest[];
  /** Queues `step` for the next `times` requests (default 1), after previously queued steps. */
  script(step: ElevenLabsStep, times?: number): void;
  /** Drops every queued step not yet used (back to normal streaming). */
  clearScript(): void;
  /** Releases every stream currently waiting in a `pause` step (later `pause` steps wait again). */
  resume(): void;
  /** Resolves once some request is waiting in a `pause` step. */
  paused(): Promise<ElevenLabsRequest>;
  /** The bytes the double would stream for `text` with `voiceId` (same as {@link renderUlaw}). */
  audioFor(text: string, voiceId: string): Buffer;
  /** Stops the server, closing every open connection (hanging ones included). */
  close(): Promise<void>;
}

const STREAM_PATH = /^\/v1\/text-to-speech\/([^/]+)\/stream$/;
const SAMPLE_RATE = 8000;
const TONE_MS = 40;
const SPACE_MS = 30;

/** FNV-1a hash of a string (32-bit), for deterministic voice pitch. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * Deterministic, content-dependent 8 kHz mu-law "speech": for each character of `text`, 40 ms (320 samples) of a
 * sine tone at `220 + (code % 48) × 15 + (hash(voiceId) % 7) × 10` Hz with a raised-cosine envelope (amplitude
 * ≤ 8000), or 30 ms (240 samples) of silence (0xFF) for whitespace. Raw mu-law, no header — like `ulaw_8000`.
 */
export function renderUlaw(text: string, voiceId: string): Buffer {
  const voiceShift = (hash(voiceId) % 7) * 10;
  const parts: Buffer[] = [];
  for (const ch of text) {
    if (/\s/.test(ch)) {
      parts.push(Buffer.alloc((SAMPLE_RATE * SPACE_MS) / 1000, 0xff));
      continue;
    }
    const hz = 220 + (ch.codePointAt(0)! % 48) * 15 + voiceShift;
    const n = (SAMPLE_RATE * TONE_MS) / 1000;
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      const env = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
      b[i] = mulawEncodeSample(8000 * env * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function errorBody(status: number): unknown {
  switch (status) {
    case 401:
      return { detail: { status: 'invalid_api_key', message: 'Invalid API key' } };
    case 404:
      return { detail: { status: 'voice_not_found', message: 'A voice with the voice_id was not found.' } };
    case 422:
      return { detail: [{ loc: ['body', 'text'], msg: 'field required', type: 'value_error.missing' }] };
    case 429:
      return { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests.' } };
    default:
      return status >= 500
        ? { detail: { status: 'internal_server_error', message: 'Internal server error.' } }
        : { detail: { status: 'bad_request', message: `HTTP ${status}` } };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts the double on 127.0.0.1 with an ephemeral port. See the module documentation for the wire format and
 * scripting. Close it with `close()` (it destroys hanging connections).
 */
export async function startElevenLabsDouble(o: ElevenLabsDoubleOptions = {}): Promise<ElevenLabsDouble> {
  const chunkBytes = o.chunkBytes ?? 1600;
  const chunkDelayMs = o.chunkDelayMs ?? 5;
  const requests: ElevenLabsRequest[] = [];
  const queue: ElevenLabsStep[] = [];
  let closing = false;
  let resumeWaiters: Array<() => void> = [];
  let pausedWaiters: Array<(r: ElevenLabsRequest) => void> = [];
  let pausedNow: ElevenLabsRequest | null = null;

  const sendJson = (rec: ElevenLabsRequest, res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body), () => { rec.finished = true; });
  };

  const stream = async (rec: ElevenLabsRequest, res: http.ServerResponse, step: ElevenLabsStep | undefined) => {
    const audio = rec.audio;
    if (o.firstByteDelayMs) await sleep(o.firstByteDelayMs);
    if (rec.clientClosed) return;
    rec.status = 200;
    res.writeHead(200, { 'content-type': 'audio/basic', 'request-id': `req_${requests.indexOf(rec)}`, 'x-character-count': String(rec.body.text.length) });
    res.flushHeaders();
    const limit = step?.kind === 'cut' || step?.kind === 'stall' ? Math.min(step.afterBytes, audio.length) : audio.length;
    for (let off = 0; off < limit; off += chunkBytes) {
      if (rec.clientClosed) return;
      const piece = audio.subarray(off, Math.min(off + chunkBytes, limit));
      rec.streamed = Buffer.concat([rec.streamed, piece]);
      rec.chunks++;
      res.write(piece);
      if (step?.kind === 'pause' && rec.chunks === step.afterChunks && !closing) {
        // Paused in the same tick as the write: by the time the client sees this chunk, `paused()` has resolved.
        pausedNow = rec;
        for (const w of pausedWaiters) w(rec);
        pausedWaiters = [];
        await new Promise<void>((r) => resumeWaiters.push(r));
        pausedNow = null;
        if (rec.clientClosed) return;
      }
      if (chunkDelayMs) await sleep(chunkDelayMs);
    }
    if (step?.kind === 'cut') {
      res.socket?.destroy();
      return;
    }
    if (step?.kind === 'stall') return; // keep the socket open, send nothing
    res.end(() => { rec.finished = true; });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
      const m = STREAM_PATH.exec(url.pathname);
      const rec: ElevenLabsRequest = {
        method: req.method ?? '',
        path: url.pathname,
        voiceId: m ? decodeURIComponent(m[1]) : null,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        rawBody,
        body,
        status: 0,
        streamed: Buffer.alloc(0),
        chunks: 0,
        audio: Buffer.alloc(0),
        finished: false,
        clientClosed: false,
      };
      requests.push(rec);
      res.on('close', () => { if (!rec.finished) rec.clientClosed = true; });
      res.on('error', () => { /* the client went away; recorded via 'close' */ });

      if (!m || req.method !== 'POST') return sendJson(rec, res, 404, { detail: 'Not Found' });
      const key = req.headers['xi-api-key'];
      if (typeof key !== 'string' || !key || (o.apiKey !== undefined && key !== o.apiKey)) return sendJson(rec, res, 401, errorBody(401));
      const step = queue.shift();
      rec.step = step;
      if (step?.kind === 'status') return sendJson(rec, res, step.status, step.body ?? errorBody(step.status), step.headers);
      if (step?.kind === 'hang') return;
      if (o.voices && !o.voices.includes(rec.voiceId!)) return sendJson(rec, res, 404, errorBody(404));
      if (!body || typeof body.text !== 'string' || body.text.length === 0) return sendJson(rec, res, 422, errorBody(422));
      if (rec.query.output_format !== 'ulaw_8000') {
        return sendJson(rec, res, 400, { detail: { status: 'invalid_output_format', message: `this double streams ulaw_8000 only, got ${rec.query.output_format ?? '(default mp3_44100_128)'}` } });
      }
      rec.audio = renderUlaw(body.text, rec.voiceId!);
      stream(rec, res, step).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    clearScript() {
      queue.length = 0;
    },
    script(step, times = 1) {
      for (let i = 0; i < times; i++) queue.push(step);
    },
    resume() {
      const ws = resumeWaiters;
      resumeWaiters = [];
      for (const w of ws) w();
    },
    paused() {
      if (pausedNow) return Promise.resolve(pausedNow);
      return new Promise((r) => pausedWaiters.push(r));
    },
    audioFor: renderUlaw,
    close() {
      closing = true;
      for (const w of resumeWaiters) w();
      resumeWaiters = [];
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
