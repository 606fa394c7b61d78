import { randomUUID } from 'node:crypto';
import { describeNetworkError, signWebhook } from '../crm/webhook';
import { redactSecrets } from '../domain/redact';
import type { HttpToolSpec } from '../domain/tools';

/** Largest response body handed back to the LLM (bytes of UTF-8); the rest is not read. */
export const MAX_TOOL_RESPONSE_BYTES = 4_096;
/** Longest excerpt of an error response's body quoted in `error` (characters). */
const ERROR_BODY_CHARS = 300;

/** Outcome of one HTTP tool call. Never carries the tool's secret or URL. */
export type HttpToolResult =
  | {
      ok: true;
      /** HTTP status (2xx). */
      status: number;
      /** The response body as text, at most {@link MAX_TOOL_RESPONSE_BYTES} bytes of UTF-8. */
      text: string;
      /** Whether the body was longer and `text` was cut. */
      truncated: boolean;
    }
  | {
      ok: false;
      /** Short, secret-free reason, e.g. `HTTP 404 Not Found: order not found`, `timed out after 3000 ms`. */
      error: string;
      /** HTTP status when the tool answered (non-2xx). */
      status?: number;
    };

/** The JSON body POSTed to a tool's URL. */
export interface HttpToolRequestBody {
  /** The tool's name (HttpToolSpec.name). */
  tool: string;
  /** The LLM's arguments (a JSON object). */
  arguments: Record<string, unknown>;
  callSid: string;
  agentId: string;
}

export interface HttpToolCallOptions {
  callSid: string;
  agentId: string;
  /** Aborts the call (e.g. the caller hung up or barged in); combined with the spec's timeout. */
  signal?: AbortSignal;
  /** Injected transport (tests); default global fetch (Node 20). */
  fetch?: typeof fetch;
}

/** Parsed tool-call arguments, or why they are unusable. */
export type ParsedToolArguments = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

/**
 * Parses the LLM's tool-call `arguments` string (OpenAI sends JSON text): a JSON object is required; an empty
 * string counts as `{}`. Never throws.
 */
export function parseToolArguments(text: string): ParsedToolArguments {
  if (!text.trim()) return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'arguments are not valid JSON' };
  }
  return isJsonObject(value) ? { ok: true, value } : { ok: false, error: 'arguments must be a JSON object' };
}

/** A plain object (not null, not an array): what tool arguments must be. */
function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Calls an agent's HTTP tool: POSTs `{ tool, arguments, callSid, agentId }` ({@link HttpToolRequestBody}) as JSON to
 * `spec.url`. When `spec.secret` is set the request is signed per Standard Webhooks (standardwebhooks.com; see
 * PROTOCOLS.md): `webhook-id` (`msg_<uuid>`, unique per call), `webhook-timestamp` (unix s) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`, via {@link signWebhook} — receivers verify
 * with `new Webhook(secret).verify(body, headers)`. Redirects are not followed (a 3xx is an error: the signed body
 * must not be replayed elsewhere). The whole exchange, body included, is bounded by `spec.timeoutMs` and `o.signal`.
 *
 * Returns `{ ok: true, status, text }` for a 2xx (body capped at {@link MAX_TOOL_RESPONSE_BYTES} bytes), otherwise
 * `{ ok: false, error }`: non-object `args`, an invalid secret, non-2xx (with a short excerpt of the body), timeout,
 * abort, network failure. Never throws, never logs, and never puts the secret or the URL (which may carry
 * credentials) in its result.
 */
export async function executeHttpTool(spec: HttpToolSpec, args: unknown, o: HttpToolCallOptions): Promise<HttpToolResult> {
  if (!isJsonObject(args)) return { ok: false, error: 'arguments must be a JSON object' };
  const payload: HttpToolRequestBody = { tool: spec.name, arguments: args, callSid: o.callSid, agentId: o.agentId };
  let body: string;
  try {
    body = JSON.stringify(payload);
  } catch {
    return { ok: false, error: 'arguments cannot be serialised as JSON' };
  }
  let headers: Record<string, string>;
  try {
    headers = spec.secret ? signWebhook(spec.secret, `msg_${randomUUID().replace(/-/g, '')}`, new Date(), body) : { 'content-type': 'application/json' };
  } catch {
    return { ok: false, error: 'the tool secret is invalid (expected whsec_<base64>)' };
  }
  headers.accept = 'application/json, text/plain;q=0.9, */*;q=0.5';

  const timeoutMs = spec.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const failure = (err: unknown): HttpToolResult => {
    if (timeout.aborted) return { ok: false, error: `timed out after ${timeoutMs} ms` };
    if (o.signal?.aborted) return { ok: false, error: 'aborted' };
    return { ok: false, error: redactSecrets(describeNetworkError(err)) };
  };
  try {
    const res = await (o.fetch ?? fetch)(spec.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    const { text, truncated } = await readCapped(res, MAX_TOOL_RESPONSE_BYTES);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, text, truncated };
    // A server's error page may echo credentials (ours or its own): quote it with secrets redacted.
    const excerpt = redactSecrets(text.replace(/\s+/g, ' ').trim()).slice(0, ERROR_BODY_CHARS);
    const statusLine = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return { ok: false, status: res.status, error: excerpt ? `${statusLine}: ${excerpt}` : statusLine };
  } catch (err) {
    return failure(err);
  }
}

/**
 * Reads at most `maxBytes` of a response body and cancels the rest; decodes UTF-8 (a character cut at the limit is
 * dropped). @throws what the body stream throws (abort, timeout, reset).
 */
async function readCapped(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const bytes = Buffer.concat(parts).subarray(0, maxBytes);
  let text = new TextDecoder('utf-8').decode(bytes);
  if (truncated) text = text.replace(/\uFFFD+$/, ''); // a multi-byte character cut in half
  return { text, truncated };
}
