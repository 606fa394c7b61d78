import { ProviderError } from '../errors';

/** Capabilities a provider serves (the `capability` label of the provider metrics). */
export type Capability = 'stt' | 'tts' | 'llm' | 'embeddings' | 'vector';

/** The `kind` label of `callcenter_provider_errors_total`. */
export type ProviderErrorKind = 'timeout' | 'http_429' | 'http_5xx' | 'http_4xx' | 'error';

/**
 * A provider did not answer in time (STT per utterance, LLM until the first delta, TTS until the first audio
 * chunk, embeddings / vector store per call). Always retryable; message `<provider>: <what> timed out after N ms`.
 */
export class ProviderTimeoutError extends ProviderError {
  readonly timeoutMs: number;
  constructor(provider: string, what: string, timeoutMs: number) {
    super(provider, `${what} timed out after ${timeoutMs} ms`, { retryable: true });
    this.name = 'ProviderTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Classifies a provider failure for metrics: our own timeouts, HTTP 408, errors named `*Timeout*` and
 * status-less ProviderErrors saying "timed out" (adapters' own timers, SDK connection timeouts) are `timeout`; otherwise by `status` (429 → `http_429`, 5xx → `http_5xx`, other 4xx → `http_4xx`); anything else
 * (network errors, malformed responses, bugs) is `error`.
 */
export function errorKind(err: unknown): ProviderErrorKind {
  if (err instanceof ProviderTimeoutError) return 'timeout';
  const e = err as { status?: unknown; name?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === 408 || (typeof e?.name === 'string' && /timeout/i.test(e.name))) return 'timeout';
  if (status === undefined && err instanceof ProviderError && /timed out/i.test(err.message)) return 'timeout';
  if (status === 429) return 'http_429';
  if (status !== undefined && status >= 500 && status <= 599) return 'http_5xx';
  if (status !== undefined && status >= 400 && status <= 499) return 'http_4xx';
  return 'error';
}

/** Whether a retry wrapper may repeat the request: only a {@link ProviderError} with `retryable: true`. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ProviderError && err.retryable;
}

type HeaderBag = { get?: (name: string) => string | null | undefined } & Record<string, unknown>;

function header(h: unknown, name: string): string | undefined {
  if (!h || typeof h !== 'object') return undefined;
  const bag = h as HeaderBag;
  if (typeof bag.get === 'function') return bag.get(name) ?? undefined;
  for (const [k, v] of Object.entries(bag)) if (k.toLowerCase() === name && (typeof v === 'string' || typeof v === 'number')) return String(v);
  return undefined;
}

/**
 * The server's requested retry delay in ms, when the error carries one: a numeric `retryAfterMs` property on the
 * error, or the `retry-after-ms` / `retry-after` (seconds or HTTP date, RFC 9110 §10.2.3) response header found in
 * `headers` or `rawResponse.headers` of the error or of its `cause` (the shapes the openai and ElevenLabs SDKs use).
 * Undefined when absent or unparsable.
 */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && typeof e === 'object' && depth < 3; e = e.cause as Record<string, unknown>, depth++) {
    if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs)) return Math.max(0, e.retryAfterMs);
    for (const h of [e.headers, (e.rawResponse as Record<string, unknown> | undefined)?.headers]) {
      const ms = header(h, 'retry-after-ms');
      if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
      const ra = header(h, 'retry-after');
      if (ra === undefined) continue;
      if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
      const at = Date.parse(ra);
      if (Number.isFinite(at)) return Math.max(0, at - now);
    }
  }
  return undefined;
}

/**
 * A loggable one-line description of an error, secrets redacted, at most 300 characters: see
 * src/domain/redact.ts (the one redaction function of the project), re-exported here for the providers.
 */
export { redactSecrets, safeErrorMessage } from '../../domain/redact';
