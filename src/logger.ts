import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACTED, redactSecrets } from './domain/redact';

/** Objects deeper than this (from the log call's object) are written as `[Object]`. */
const MAX_DEPTH = 10;

/**
 * Whether a property name holds a secret, at any depth: compared without case, `-` and `_`, names ending in
 * `apikey` (`apiKey`, `api_key`, `xi-api-key`, `openaiApiKey`), `token` (`authToken`, `access_token`; not
 * `tokens`/`maxTokens`), `secret` (`webhookSecret`, `client_secret`), `password`/`passwd`, `authorization`
 * (also `proxy-authorization`), `cookie` (`set-cookie`), `privatekey`, and names containing `signature`
 * (`x-twilio-signature`, `X-HubSpot-Signature-v3`).
 */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s]/g, '');
  return /(apikey|token|secret|password|passwd|authorization|cookie|privatekey)$/.test(k) || k.includes('signature');
}

/**
 * A copy of a log value that is safe to write: every secret-named property (see {@link isSecretKey}) at any depth
 * has its value replaced by `[redacted]` (booleans and null are kept: `{ apiKey: false }` reveals nothing), every
 * string goes through {@link redactSecrets}, Errors are first serialized like pino's `err` serializer (type,
 * message and stack with causes, own properties) and then scrubbed the same way. Cycles become `[Circular]`.
 * Typed arrays and Buffers are kept as they are.
 */
export function scrub(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  let v: object = value;
  if (v instanceof Error) v = pino.stdSerializers.err(v);
  else if (v instanceof URL) return redactSecrets(v.href);
  else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return scrub((v as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    out[key] = isSecretKey(key) && x !== null && x !== undefined && typeof x !== 'boolean' ? REDACTED : scrub(x, depth + 1, seen);
  }
  return out;
}

/**
 * Root pino logger. Secrets never reach the output: every logged object is passed through {@link scrub}
 * (secret-named keys at any depth, secret-shaped text in any string, Errors — at `err` or anywhere — serialized
 * and redacted), and every finished line (message and child bindings included) through {@link redactSecrets}. Audio and full transcripts are
 * never logged at info level (call code logs lengths and ids, not content).
 * @param destination where lines go (default stdout); tests pass a memory stream.
 */
export function createLogger(level: string, name = 'callcenter', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    formatters: {
      log: (obj) => scrub(obj) as Record<string, unknown>,
      bindings: (bindings) => scrub(bindings) as pino.Bindings,
    },
    hooks: {
      // Last line of defence on the finished JSON line: child bindings (pino gives children no bindings formatter),
      // the message, and `"secretKey":"value"` pairs anywhere.
      streamWrite: (line: string) => redactSecrets(line),
    },
    serializers: {
      // Errors were already serialized and redacted by `formatters.log`; this only covers a non-Error `err`.
      err: (e: unknown) => scrub(e),
      msg: (m: unknown) => (typeof m === 'string' ? redactSecrets(m) : m),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
