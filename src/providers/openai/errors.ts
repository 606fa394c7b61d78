import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { redactSecrets as redactAny } from '../../domain/redact';
import { ProviderError } from '../errors';

/**
 * Mapping of `openai` SDK (v6) failures to {@link ProviderError}, the one error type providers throw.
 *
 * Retryable (the same request may succeed later): HTTP 408, 409, 429 and 5xx; connection failures and timeouts
 * (`APIConnectionError`, `APIConnectionTimeoutError`, a socket cut mid-body); an `error` event inside a stream (no
 * status: OpenAI sends those for server-side failures). Not retryable: 400, 401, 403, 404, 422 and other 4xx,
 * malformed bodies (invalid JSON or an unexpected shape), anything else unexpected.
 * When the caller's AbortSignal fired, the signal's reason is returned as is (it is not a provider failure).
 * Status codes per https://platform.openai.com/docs/guides/error-codes .
 */

/** HTTP statuses worth retrying (see module doc). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Error codes of Node/undici network failures (the socket closed or could not be opened). */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

const MAX_MESSAGE = 300;

/**
 * Removes secrets from text that may come from the server (OpenAI's 401 message quotes a masked key): every
 * exact `secrets` value, `sk-…` style keys (masked or not, even short ones) and `Bearer …` credentials, then
 * everything src/domain/redact.ts recognises. Truncates to 300 characters.
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  out = out.replace(/\bsk-[A-Za-z0-9_*.\-]{3,}/g, 'sk-[redacted]').replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]');
  out = redactAny(out);
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    // undici: `TypeError: terminated` when the connection closes while the body is read.
    if (e instanceof TypeError && /^(terminated|fetch failed)$/.test(e.message)) return true;
  }
  return false;
}

/**
 * Maps anything an SDK call (or reading its response/stream) threw to what the adapter should throw.
 * @param provider provider id for the error (e.g. `openai.chat`).
 * @param o.signal the caller's AbortSignal: when it has fired, its `reason` is returned unchanged.
 * @param o.secrets values to scrub from messages (the API key).
 * @returns `signal.reason` when aborted, the error itself when it is already a ProviderError, else a new ProviderError.
 */
export function mapOpenAiError(provider: string, err: unknown, o: { signal?: AbortSignal; secrets?: ReadonlyArray<string | undefined> } = {}): unknown {
  if (o.signal?.aborted) return o.signal.reason;
  if (err instanceof ProviderError) return err;
  const clean = (m: string) => redactSecrets(m, o.secrets);
  if (err instanceof APIUserAbortError) {
    return new ProviderError(provider, 'request aborted', { retryable: true, cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new ProviderError(provider, 'request timed out', { retryable: true, cause: err });
  }
  if (err instanceof APIConnectionError) {
    return new ProviderError(provider, `connection error: ${clean(err.message)}`, { retryable: true, cause: err });
  }
  if (err instanceof APIError) {
    const status = typeof err.status === 'number' ? err.status : undefined;
    if (status === undefined) {
      // An `error` object inside an SSE stream (the SDK throws APIError without status).
      return new ProviderError(provider, `error in stream: ${clean(err.message)}`, { retryable: true, cause: err });
    }
    const code = err.code ? ` (${clean(String(err.code))})` : '';
    return new ProviderError(provider, `HTTP ${status}${code}: ${clean(err.message)}`, { retryable: isRetryableStatus(status), status, cause: err });
  }
  if (err instanceof SyntaxError) {
    return new ProviderError(provider, 'malformed response body (invalid JSON)', { retryable: false, cause: err });
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new ProviderError(provider, 'request aborted', { retryable: true, cause: err });
  }
  if (isNetworkError(err)) {
    return new ProviderError(provider, 'connection lost while reading the response', { retryable: true, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(provider, `unexpected error: ${clean(message)}`, { retryable: false, cause: err });
}

/** A non-retryable ProviderError for a response whose shape breaks the OpenAI API contract. */
export function malformedResponse(provider: string, what: string, status?: number): ProviderError {
  return new ProviderError(provider, `malformed response: ${what}`, { retryable: false, status });
}
