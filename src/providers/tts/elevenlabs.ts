import { ElevenLabsClient, ElevenLabsError, ElevenLabsTimeoutError, type ElevenLabs } from '@elevenlabs/elevenlabs-js';
import { redactSecrets } from '../../domain/redact';
import { ProviderError } from '../errors';
import type { AudioChunk, TtsProvider } from '../types';

/** Options of {@link ElevenLabsTts}. */
export interface ElevenLabsTtsOptions {
  /** ElevenLabs API key, sent as the `xi-api-key` header. Never logged nor put in error messages. */
  apiKey: string;
  /** API origin without `/v1` (e.g. `http://127.0.0.1:port` for a local double). Default `https://api.elevenlabs.io`. */
  baseUrl?: string;
  /** Model id. Default `eleven_flash_v2_5` (~75 ms model latency, 32 languages, accepts `language_code`). */
  model?: string;
  /** Voice used when `synthesize` gets no `voice`. */
  defaultVoiceId: string;
  /** Time (ms) from the request until the first audio byte; then the request is aborted. Default 2500. */
  firstByteTimeoutMs?: number;
  /** Longest gap (ms) between two audio chunks once audio flows; then the request is aborted. Default 5000. */
  chunkTimeoutMs?: number;
  /**
   * `optimize_streaming_latency` query parameter (0–4). Not sent unless set; ignored for `eleven_v3`, which is not a
   * real-time model. Flash v2.5 is already the lowest-latency model, so the default leaves it out.
   */
  optimizeStreamingLatency?: 0 | 1 | 2 | 3 | 4;
}

export const ELEVENLABS_DEFAULT_MODEL = 'eleven_flash_v2_5';
type StreamTextToSpeechRequest = ElevenLabs.StreamTextToSpeechRequest;

const ID = 'elevenlabs.tts';
const OUTPUT_FORMAT = 'ulaw_8000';
/** Models that honour `language_code` (the SDK docs: "not supported for multilingual_v2 models"). */
const LANGUAGE_CODE_MODELS = /^eleven_(flash|turbo)_v2_5$|^eleven_v3/;

/**
 * Streaming TTS through the official `@elevenlabs/elevenlabs-js` SDK (2.x): `client.textToSpeech.stream(voiceId,
 * { text, modelId, outputFormat: 'ulaw_8000', languageCode })` → `POST /v1/text-to-speech/{voice_id}/stream?
 * output_format=ulaw_8000` with header `xi-api-key` (wire format: /work/shared/PROTOCOLS.md, "ElevenLabs TTS").
 *
 * `ulaw_8000` is exactly Twilio's media format (raw 8 kHz G.711 mu-law, no header), so every chunk is yielded
 * unchanged as `{ encoding: 'mulaw', sampleRate: 8000, data }` as soon as it arrives — no decoding or re-encoding.
 *
 * Voice: `o.voice` (chosen per agent and language by the engine), else `defaultVoiceId`. Language: the ISO 639-1
 * primary subtag of `o.language` is sent as `language_code` for models that accept it (flash/turbo v2.5, v3).
 * The SDK's own retries are off (`maxRetries: 0`): the caller's resilience layer retries `retryable` errors.
 *
 * Errors (all {@link ProviderError}, key never included):
 * - HTTP 408, 409, 429, 5xx → retryable, with `status`; other statuses (400, 401, 403, 404, 422) → not retryable.
 * - no audio within `firstByteTimeoutMs`, or a gap over `chunkTimeoutMs` → retryable (no status).
 * - network failures and a stream cut mid-way → retryable (audio already yielded stays yielded).
 * - the caller's `signal` aborting → the iteration throws `signal.reason` (not a ProviderError) and the HTTP
 *   request is cancelled.
 */
export class ElevenLabsTts implements TtsProvider {
  readonly id = ID;
  private readonly client: ElevenLabsClient;
  private readonly apiKey: string;
  private readonly model: string;
  private readonly defaultVoiceId: string;
  private readonly firstByteTimeoutMs: number;
  private readonly chunkTimeoutMs: number;
  private readonly optimizeStreamingLatency?: number;

  /** @throws Error on a missing key/voice or invalid timeouts/latency level (configuration errors). */
  constructor(o: ElevenLabsTtsOptions) {
    if (!o.apiKey) throw new Error('ElevenLabsTts: apiKey is required');
    if (!o.defaultVoiceId) throw new Error('ElevenLabsTts: defaultVoiceId is required');
    this.apiKey = o.apiKey;
    this.model = o.model || ELEVENLABS_DEFAULT_MODEL;
    this.defaultVoiceId = o.defaultVoiceId;
    this.firstByteTimeoutMs = positiveInt(o.firstByteTimeoutMs ?? 2500, 'firstByteTimeoutMs');
    this.chunkTimeoutMs = positiveInt(o.chunkTimeoutMs ?? 5000, 'chunkTimeoutMs');
    const osl = o.optimizeStreamingLatency;
    if (osl !== undefined && !(Number.isInteger(osl) && osl >= 0 && osl <= 4)) throw new Error(`ElevenLabsTts: optimizeStreamingLatency must be 0..4, got ${osl}`);
    this.optimizeStreamingLatency = osl !== undefined && !this.model.startsWith('eleven_v3') ? osl : undefined;
    // apiKey is always given, so the SDK never falls back to reading ELEVENLABS_API_KEY from the environment.
    this.client = new ElevenLabsClient({ apiKey: o.apiKey, baseUrl: o.baseUrl, maxRetries: 0 });
  }

  /** Streams mu-law 8 kHz audio for `text` (nothing for blank text). @throws ProviderError, or `signal.reason` */
  async *synthesize(text: string, o: { voice?: string; language: string; signal: AbortSignal }): AsyncGenerator<AudioChunk> {
    o.signal.throwIfAborted();
    if (text.trim() === '') return;
    const voiceId = o.voice?.trim() || this.defaultVoiceId;
    const languageCode = LANGUAGE_CODE_MODELS.test(this.model) ? iso6391(o.language) : undefined;

    // One controller for the request: fired by the caller's signal, our timeouts, or an early `return()`.
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(o.signal.reason);
    o.signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let timedOut: string | null = null;
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = `no ${what} within ${ms} ms`;
        ctl.abort(new Error(timedOut));
      }, ms);
    };
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let bytes = 0;
    let done = false;
    try {
      arm(this.firstByteTimeoutMs, 'audio');
      // Optional fields are left out rather than set to undefined (the SDK would send `"language_code": null`).
      const request: StreamTextToSpeechRequest = { text, modelId: this.model, outputFormat: OUTPUT_FORMAT };
      if (languageCode) request.languageCode = languageCode;
      if (this.optimizeStreamingLatency !== undefined) request.optimizeStreamingLatency = this.optimizeStreamingLatency;
      // The SDK's own timeout (until response headers) equals ours: its timer is only cleared when headers arrive,
      // so a failed request leaves it pending for at most that long instead of the SDK default of 240 s.
      const stream = await this.client.textToSpeech.stream(voiceId, request, { abortSignal: ctl.signal, maxRetries: 0, timeoutInSeconds: this.firstByteTimeoutMs / 1000 });
      reader = stream.getReader();
      for (;;) {
        if (bytes > 0) arm(this.chunkTimeoutMs, 'audio chunk');
        const r = await reader.read();
        if (r.done) break;
        if (!r.value?.length) continue;
        clearTimeout(timer); // the consumer's pace is not the provider's latency
        bytes += r.value.length;
        yield { encoding: 'mulaw', sampleRate: 8000, data: r.value };
      }
      done = true;
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      if (timedOut) throw new ProviderError(ID, `timed out: ${timedOut}${bytes ? ` (after ${bytes} bytes)` : ''}`, { retryable: true, cause: err });
      throw this.mapError(err, bytes);
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      if (!done) {
        ctl.abort(new Error('synthesis stopped'));
        reader?.cancel().catch(() => undefined);
      }
    }
  }

  /** Maps SDK / fetch failures to ProviderError (see the class documentation). */
  private mapError(err: unknown, bytes: number): ProviderError {
    if (err instanceof ProviderError) return err;
    // With Node's fetch the SDK's own timer surfaces as ElevenLabsError(cause: 'timeout'), not ElevenLabsTimeoutError.
    if (err instanceof ElevenLabsTimeoutError || (err instanceof ElevenLabsError && err.cause === 'timeout')) {
      return new ProviderError(ID, `timed out: no response within ${this.firstByteTimeoutMs} ms`, { retryable: true, cause: err });
    }
    if (err instanceof ElevenLabsError) {
      const status = err.statusCode;
      if (status === undefined) return new ProviderError(ID, `network error: ${this.clean(err.message)}`, { retryable: true, cause: err });
      return new ProviderError(ID, `HTTP ${status}${detail(err.body, this.apiKey)}`, { retryable: isRetryableStatus(status), status, cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new ProviderError(ID, `audio stream failed${bytes ? ` after ${bytes} bytes` : ''}: ${this.clean(message)}`, { retryable: true, cause: err });
  }

  private clean(text: string): string {
    return redact(text, this.apiKey);
  }
}

/** HTTP statuses worth retrying: 408, 409, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `en-US` → `en`; undefined when the tag has no 2–3 letter primary subtag. */
function iso6391(language: string): string | undefined {
  const primary = language.trim().toLowerCase().split(/[-_]/)[0];
  return /^[a-z]{2,3}$/.test(primary) ? primary : undefined;
}

/** `: <status> – <message>` from an ElevenLabs error body (`{detail:{status,message}}` or `{detail:[{msg}]}`). */
function detail(body: unknown, apiKey: string): string {
  const d = (body as { detail?: unknown } | undefined)?.detail;
  let text = '';
  if (typeof d === 'string') text = d;
  else if (Array.isArray(d)) text = d.map((x) => (x && typeof x === 'object' && 'msg' in x ? String((x as { msg: unknown }).msg) : '')).filter(Boolean).join('; ');
  else if (d && typeof d === 'object') {
    const { status, message } = d as { status?: unknown; message?: unknown };
    text = [status, message].filter((x) => typeof x === 'string' && x).join(': ');
  }
  return text ? ` (${redact(text, apiKey)})` : '';
}

function redact(text: string, secret: string): string {
  const out = redactSecrets(secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text);
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`ElevenLabsTts: ${name} must be a positive integer (ms), got ${v}`);
  return v;
}
