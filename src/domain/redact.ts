/**
 * The one place that knows what a secret looks like in free text (error messages, URLs, log strings). Pure: no I/O,
 * no imports. Used by the providers' resilience layer, the logger and the call session so that secrets never leave
 * the process through an error message or a log line.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Secret shapes, in the order applied. Each keeps enough context to debug (the key name, the scheme, the URL's
 * user) and replaces only the secret itself. Not secrets, kept: Twilio SIDs (`AC…`, `CA…`, `MZ…`), ids, numbers.
 */
const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // URL userinfo: `https://ACxxxx:authToken@api.twilio.com/…` (Twilio basic auth in a URL), `postgres://u:pw@host`.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]*):[^\s/@"'<>]+@/gi, `$1:${REDACTED}@`],
  // HTTP auth schemes.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/g, `$1 ${REDACTED}`],
  // Standard Webhooks signing secrets (`whsec_<base64>`).
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, REDACTED],
  // OpenAI (`sk-…`, `sk-proj-…`), ElevenLabs (`sk_…`, older `xi-…`), Pinecone (`pcsk_…`), Stripe-style `pk_`/`rk_`.
  [/\b(sk|pk|pcsk|xi|rk)[-_][A-Za-z0-9_*.-]{8,}/g, REDACTED],
  // HubSpot private app tokens (`pat-na1-<uuid>`).
  [/\bpat-[a-z]{2,3}\d?-[0-9a-f-]{20,}/gi, REDACTED],
  // AWS access key ids.
  [/\bAKIA[0-9A-Z]{16}\b/g, REDACTED],
  // JSON Web Tokens (three base64url parts, the first one a JSON header).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  // `key=value`, `key: value`, `"key":"value"` for secret-named keys (api_key, xi-api-key, authToken, password, ...).
  [
    /\b([\w-]*(?:api[-_]?key|secret|token|password|passwd|authorization|signature))(["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"'&,;}\\]+/gi,
    `$1$2${REDACTED}`,
  ],
];

/**
 * `text` with everything shaped like a secret replaced by `[redacted]`: API keys (OpenAI, ElevenLabs, Pinecone,
 * HubSpot, AWS, Stripe-style), `Bearer`/`Basic` credentials, `whsec_` webhook secrets, JWTs, passwords in URLs
 * (`https://user:secret@host`), and the values of secret-named `key=value` / `key: value` pairs. Twilio account and
 * call SIDs are kept (identifiers, not secrets). Non-strings are converted with `String()`.
 */
export function redactSecrets(text: string): string {
  let out = typeof text === 'string' ? text : String(text);
  for (const [re, replacement] of SECRET_PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Longest message {@link safeErrorMessage} returns. */
export const MAX_ERROR_MESSAGE = 300;

/**
 * A loggable one-line description of an error: its message (for non-Error values, `String(value)`), passed through
 * {@link redactSecrets} and cut to 300 characters. Adapters already keep secrets out of their messages; this is
 * the second line of defence for errors from SDKs and libraries.
 */
export function safeErrorMessage(err: unknown): string {
  let msg: string;
  try {
    msg = err instanceof Error ? err.message : String(err);
  } catch {
    msg = Object.prototype.toString.call(err);
  }
  msg = redactSecrets(msg);
  return msg.length > MAX_ERROR_MESSAGE ? `${msg.slice(0, MAX_ERROR_MESSAGE - 3)}...` : msg;
}
