import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { mergePrices, USAGE_KINDS, type PriceTable, type UsageKind } from './domain/usage';

/**
 * The only reader of `process.env`. One zod schema → a frozen, typed {@link Config}.
 *
 * No well-known secret works unless asked for: the development defaults below (`API_KEY=dev-api-key`, a Twilio auth
 * token, a CRM signing secret, local service URLs) fill in missing values only when `NODE_ENV` is explicitly
 * `development` or `test` (the demo, call, bench and dev scripts set `development`; Jest sets `test`). An unset
 * `NODE_ENV` counts as `production`: every secret (`TWILIO_AUTH_TOKEN`, `API_KEY`, `CRM_WEBHOOK_SECRET` when
 * `CRM_WEBHOOK_URL` is set) and service URL must be given, and `loadConfig` throws a ConfigError listing each one
 * missing. So a server started bare (`node dist/main.js`) refuses to run rather than accept `dev-api-key`.
 */

/** Well-known values used for missing variables only when NODE_ENV is `development` or `test` (never in production). */
export const DEV_DEFAULTS = {
  PUBLIC_BASE_URL: 'https://localhost:3000',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/callcenter',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'dev-twilio-auth-token',
  API_KEY: 'dev-api-key',
  CRM_WEBHOOK_SECRET: 'whsec_ZGV2LWNybS13ZWJob29rLXNlY3JldC0zMmJ5dGVz',
  SESSION_SECRET: 'dev-session-secret-not-for-production-0123',
  METRICS_TOKEN: 'dev-metrics-token',
  WEBHOOK_SECRETS_KEY: 'ZGV2LXdlYmhvb2stc2VjcmV0cy1rZXktMzJieXRlcyE=',
  CRM_CREDENTIALS_KEY: 'ZGV2LWNybS1jb25uZWN0b3ItY3JlZGVudGlhbHMtayE=',
} as const;

const intMs = (def: number) => z.coerce.number().int().nonnegative().default(def);
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional());

/**
 * List prices (USD) used when `USAGE_PRICES_JSON` does not override them (units: src/domain/usage.ts KIND_UNITS); looked up 2026-12-02.
 * - openai.chat (gpt-4o-mini, OPENAI_LLM_MODEL's default): $0.15 / 1M input, $0.60 / 1M output tokens — OpenAI's model
 *   pricing as listed at developers.openai.com (the agents' `llm.model` may be another model: override the table).
 * - openai.stt (whisper-1): $0.006 per minute (developers.openai.com/api/docs/models/whisper-1, "Transcription cost / minute").
 * - elevenlabs.tts (eleven_flash_v2_5): $0.04 per 1K characters — ElevenLabs' own API price page was not reachable
 *   from here; this is the Flash v2.5 list price seen on 2026-11-11 (inference.sh, "Eleven Flash v2.5"); ElevenLabs'
 *   help centre: Flash/Turbo cost 1 credit per 2 characters. Override with your plan's rate.
 * - openai.tts (tts-1): $15 / 1M characters = $0.015 per 1K — OpenAI's published tts-1 rate (not re-verified here).
 * - twilio: $0.0085 per inbound (local number) minute, $0.013 per outbound minute, US — Twilio support article
 *   "How Volume Pricing works at Twilio" (support.twilio.com/hc/en-us/articles/223183328).
 * Local engines (Moonshine, espeak-ng, the local responder) and the fakes cost nothing.
 */
export const DEFAULT_PRICES: PriceTable = {
  'openai.chat': { llm_prompt: 0.15, llm_completion: 0.6 },
  'openai.stt': { stt_audio: 0.006 },
  'elevenlabs.tts': { tts_characters: 0.04 },
  'openai.tts': { tts_characters: 0.015 },
  twilio: { telephony_inbound: 0.0085, telephony_outbound: 0.013 },
};

/** A JSON env var parsed and validated by `schema` (absent/empty → `def`); bad JSON or shape is a config issue. */
const jsonEnv = <T>(schema: z.ZodType<T>, def: T) =>
  z.preprocess((v, ctx) => {
    if (v === undefined || v === '') return def;
    try {
      return JSON.parse(String(v));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected JSON' });
      return z.NEVER;
    }
  }, schema);
const providerId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a provider id such as openai.chat, elevenlabs.tts, twilio');
/** `{ "<provider id>": { "<usage kind>": <USD per price block> } }` (see src/domain/usage.ts KIND_UNITS). */
const priceTableSchema = z.record(providerId, z.partialRecord(z.enum(USAGE_KINDS as [UsageKind, ...UsageKind[]]), z.number().nonnegative()));
/** `{ "<provider id>": <USD per calendar month (UTC)> }`. */
const budgetsSchema = z.record(providerId, z.number().positive());

const envSchema = z.object({
  /** Unset → production (no development defaults). */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Public https origin Twilio calls (webhook signatures are computed over it), e.g. https://voice.example.com */
  PUBLIC_BASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .url()
      .refine((v) => /^[a-z]+:\/\/[^/?#]+\/?$/i.test(v), 'must be a bare origin like https://voice.example.com (no path or query)')
      .optional(),
  ),
  /** Proxy hops in front of the server whose X-Forwarded-For is trusted (express `trust proxy`); 0 = none. */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().optional()),
  REDIS_URL: z.preprocess(emptyToUndefined, z.string().optional()),
  TWILIO_ACCOUNT_SID: z.preprocess(emptyToUndefined, z.string().optional()),
  TWILIO_AUTH_TOKEN: z.preprocess(emptyToUndefined, z.string().optional()),
  API_KEY: z.preprocess(emptyToUndefined, z.string().min(8).optional()),
  CRM_WEBHOOK_URL: optionalUrl,
  /** Signs the `cc_session` cookie (express-session); rotate it to log everyone out. Required in production. */
  SESSION_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  /** Idle lifetime of a login session (ms; rolling: every request renews it). Default 8 h. */
  SESSION_TTL_MS: z.coerce.number().int().min(60_000).default(8 * 3600_000),
  /** Bearer token of GET /metrics (not an API key, which could read transcripts); unset in production → /metrics is not served. */
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  /** Requests per minute per API principal (user, API key, bootstrap key), shared by every instance through Redis. */
  API_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(600),
  /** Requests per minute per client IP to /api, counted before authentication (bounds key and password guessing). */
  API_IP_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(2_400),
  /** Failed logins for one account from one IP before that pair is locked out for LOGIN_LOCKOUT_MS. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: z.coerce.number().int().min(1).default(5),
  /** Window and lock-out of LOGIN_MAX_FAILURES_PER_ACCOUNT_IP (ms). Default 15 min. */
  LOGIN_LOCKOUT_MS: z.coerce.number().int().min(1_000).default(15 * 60_000),
  /** Failed logins for one account from any IPs within an hour before it is locked out for an hour. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(50),
  /** Failed logins from one IP (any accounts) within a day before that IP is locked out for a day. */
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(100),
  CRM_WEBHOOK_SECRET: z.preprocess(emptyToUndefined, z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must look like whsec_<base64>').optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset → the cloud provider when its key is present, else the offline one. */
  STT_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['openai', 'local', 'fake']).optional()),
  TTS_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['elevenlabs', 'openai', 'local', 'fake']).optional()),
  LLM_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['openai', 'local', 'fake']).optional()),
  EMBEDDINGS_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['openai', 'local']).optional()),
  VECTOR_PROVIDER: z.preprocess(emptyToUndefined, z.enum(['pinecone', 'postgres']).optional()),
  /** Fallback chains after the primary, comma-separated (e.g. `openai,local`); unset → every other usable provider, local last. `none` = no fallback. */
  STT_FALLBACK: z.preprocess(emptyToUndefined, z.string().optional()),
  TTS_FALLBACK: z.preprocess(emptyToUndefined, z.string().optional()),
  LLM_FALLBACK: z.preprocess(emptyToUndefined, z.string().optional()),
  OPENAI_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  OPENAI_BASE_URL: optionalUrl,
  STT_BASE_URL: optionalUrl,
  LLM_BASE_URL: optionalUrl,
  OPENAI_STT_MODEL: z.string().default('whisper-1'),
  OPENAI_LLM_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_EMBEDDINGS_MODEL: z.string().default('text-embedding-3-small'),
  OPENAI_TTS_MODEL: z.string().default('gpt-4o-mini-tts'),
  OPENAI_TTS_VOICE: z.string().default('alloy'),
  ELEVENLABS_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  ELEVENLABS_BASE_URL: optionalUrl,
  ELEVENLABS_MODEL: z.string().default('eleven_flash_v2_5'),
  /** Voice used when the agent has none for the language (ElevenLabs "Rachel", multilingual with flash v2.5). */
  ELEVENLABS_VOICE_ID: z.string().default('21m00Tcm4TlvDq8ikWAM'),
  PINECONE_API_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Full index host URL, e.g. https://support-abc123.svc.us-east1-gcp.pinecone.io (http:// allowed for local emulators). */
  PINECONE_INDEX_HOST: optionalUrl,
  /** Per-provider request timeouts (ms): STT per utterance, LLM and TTS until the first token / byte. */
  STT_TIMEOUT_MS: intMs(8_000),
  LLM_FIRST_TOKEN_TIMEOUT_MS: intMs(4_000),
  TTS_FIRST_BYTE_TIMEOUT_MS: intMs(2_500),
  EMBEDDINGS_TIMEOUT_MS: intMs(10_000),
  VECTOR_TIMEOUT_MS: intMs(3_000),
  /** Retries of a retryable provider error (429, 5xx, timeout) before moving down the fallback chain. */
  PROVIDER_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  /** Circuit breaker per provider: consecutive errors that open it (a single timeout opens it at once). */
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  /** Circuit breaker: how long an open breaker skips its provider before one half-open probe (ms). */
  BREAKER_HALF_OPEN_MS: intMs(30_000),
  /** Graceful drain (SIGTERM): how long live calls may go on before the agent says goodbye and hangs up (ms). */
  DRAIN_TIMEOUT_MS: intMs(30_000),
  /** Media Streams: how far (ms of audio) a peer may send ahead of the wall clock before its stream is closed (1008). */
  MEDIA_MAX_AHEAD_MS: intMs(3_000),
  /** Call recordings (two-channel WAV, caller left / agent right): `false` records no call (agents' `recordCalls` too). */
  RECORDINGS_ENABLED: z.enum(['true', 'false']).default('true'),
  /**
   * Where recordings are stored (created if missing; `.partial/` under it holds recordings being written). Default
   * `./data/recordings`; under NODE_ENV=test `<os tmpdir>/callcenter-test-recordings` (test runs leave no files in the checkout).
   */
  RECORDINGS_DIR: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  /** Recordings (file or object and row) older than this many days are deleted by the worker's retention job; 0 keeps them. */
  RECORDINGS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  /** S3-compatible storage: set the bucket to upload recordings there instead of RECORDINGS_DIR. */
  RECORDINGS_S3_BUCKET: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Endpoint of an S3-compatible service (MinIO, R2 …); unset = AWS. A custom endpoint uses path-style URLs. */
  RECORDINGS_S3_ENDPOINT: optionalUrl,
  RECORDINGS_S3_REGION: z.string().default('us-east-1'),
  /** Static credentials; unset = the AWS SDK's default chain (environment, instance role …). */
  RECORDINGS_S3_ACCESS_KEY_ID: z.preprocess(emptyToUndefined, z.string().optional()),
  RECORDINGS_S3_SECRET_ACCESS_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Browser test calls (`/api/web-call`) one user or API key may hold at once (counted in Redis, all instances). */
  WEB_CALLS_PER_USER: z.coerce.number().int().min(1).max(100).default(3),
  /** VAD: silence after speech that ends the caller's turn (ms). */
  ENDPOINTING_SILENCE_MS: intMs(800),
  /** Speculative STT: a pause this long inside the caller's turn sends the audio so far to STT at once (ms); 0 disables. */
  SPECULATIVE_STT_PAUSE_MS: intMs(200),
  /**
   * Adaptive endpointing (needs SPECULATIVE_STT_PAUSE_MS): the turn ends after ENDPOINTING_COMPLETE_MS of silence when
   * the words so far end a sentence or question, after ENDPOINTING_CONTINUING_MS when they stop mid-phrase ("and",
   * "um", "my number is"), else after ENDPOINTING_SILENCE_MS.
   */
  ADAPTIVE_ENDPOINTING: z.enum(['true', 'false']).default('true'),
  ENDPOINTING_COMPLETE_MS: intMs(400),
  ENDPOINTING_CONTINUING_MS: intMs(1_200),
  /** VAD: speech shorter than this is treated as noise (ms). */
  VAD_MIN_SPEECH_MS: intMs(250),
  /** Hard cap on one caller utterance (ms). */
  MAX_UTTERANCE_MS: intMs(30_000),
  /** Barge-in: caller speech must last this long while the agent talks before it interrupts (backchannels like "mm-hm" are shorter). */
  BARGE_IN_MIN_SPEECH_MS: intMs(400),
  /** Silence (no caller speech after the agent finished) before a reprompt (ms); 0 disables. */
  SILENCE_REPROMPT_MS: intMs(8_000),
  /** Reprompts before the agent says goodbye and hangs up. */
  MAX_REPROMPTS: z.coerce.number().int().min(0).max(10).default(2),
  /** Hard cap on one call (ms); the agent says goodbye and hangs up. 0 disables. */
  MAX_CALL_DURATION_MS: intMs(15 * 60_000),
  /** End of caller speech → a cached "one moment" filler when the reply has no audio yet (ms); 0 disables. */
  DEAD_AIR_FILLER_MS: intMs(1_900),
  /** Outbound calls: how long the agent waits for the callee's first words ("hello?") before its greeting (ms). */
  OUTBOUND_GREETING_WAIT_MS: intMs(2_500),
  /**
   * A caller turn whose transcripts all report a confidence below this (0..1; Moonshine: geometric-mean token
   * probability, ≈ 0.74–0.99 for English, ≈ 0.3–0.4 for other languages) was not understood; 0 disables.
   */
  STT_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  /**
   * A call to a number bound to no agent (or to an archived one): `default` routes it to the default agent, `reject`
   * answers with a short spoken message and hangs up.
   */
  UNCONFIGURED_NUMBER: z.enum(['default', 'reject']).default('default'),
  /** Serve Prometheus metrics at GET /metrics (behind METRICS_TOKEN). */
  METRICS_ENABLED: z.enum(['true', 'false']).default('true'),
  /** Silero speech-probability thresholds (start / continue). */
  VAD_POSITIVE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  VAD_NEGATIVE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.35),
  /**
   * VAD quiet-window gate (dBFS): a 32 ms window quieter than this is not run through Silero while it already calls
   * the audio silence (see VadStreamOptions.quietGateDbfs); `off` runs every window.
   */
  VAD_QUIET_GATE_DBFS: z
    .union([z.literal('off'), z.coerce.number().max(0)], { error: 'expected a level in dBFS (≤ 0, e.g. -60) or off' })
    .default(-60),
  /** Post-call job retries (CRM sync uses exponential backoff from CRM_RETRY_BASE_MS). */
  CRM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** AES-256-GCM key (base64 of 32 bytes) that encrypts webhook endpoint secrets at rest. Without it in production, webhook endpoints are unavailable. */
  WEBHOOK_SECRETS_KEY: z.preprocess(
    emptyToUndefined,
    z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be the base64 of 32 random bytes (openssl rand -base64 32)').optional(),
  ),
  /** AES-256-GCM key (base64 of 32 bytes) that encrypts native CRM connector credentials at rest. Without it in production, CRM connectors are unavailable. */
  CRM_CREDENTIALS_KEY: z.preprocess(
    emptyToUndefined,
    z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be the base64 of 32 random bytes (openssl rand -base64 32)').optional(),
  ),
  /** Per-request timeout of a native CRM connector's API call (ms). */
  CRM_CONNECTOR_TIMEOUT_MS: intMs(10_000),
  /** Hosts (exact names) or CIDRs webhook endpoints may use although they are private/loopback (SSRF guard exceptions). */
  WEBHOOK_ALLOW_PRIVATE_HOSTS: z.preprocess(emptyToUndefined, z.string().optional()),
  /** Webhook delivery: attempts before the dead letter, first retry delay, longest delay (ms); defaults span about a day. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(14),
  WEBHOOK_RETRY_BASE_MS: intMs(30_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: intMs(4 * 3600_000),
  /** Per-request timeout of a webhook delivery (ms). */
  WEBHOOK_TIMEOUT_MS: intMs(10_000),
  /** An endpoint whose every attempt failed for this many days is disabled (with the reason recorded). */
  WEBHOOK_DISABLE_AFTER_DAYS: z.coerce.number().positive().default(3),
  /** How often the worker's relay moves outbox rows into the delivery queue (ms). */
  WEBHOOK_RELAY_INTERVAL_MS: intMs(500),
  CRM_RETRY_BASE_MS: intMs(2_000),
  ESPEAK_BIN: z.string().default('espeak-ng'),
  /** Offline STT (STT_PROVIDER=local): Moonshine model size; base ≈ 5 % WER on phone audio, tiny is faster. */
  LOCAL_STT_MODEL: z.enum(['base', 'tiny']).default('base'),
  /** Offline STT: utterances decoded at once (worker threads, one onnxruntime thread each). */
  LOCAL_STT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** Offline STT: directory of the Moonshine weights (`npm run fetch-models` fills models/moonshine). */
  LOCAL_STT_MODEL_DIR: z.preprocess(emptyToUndefined, z.string().optional()),
  FAKE_STT_MS: intMs(0),
  /** What the fake STT hears in every utterance (benchmarks). */
  FAKE_STT_TEXT: z.string().default('What are your opening hours on Saturday?'),
  /** Redis key prefix of the BullMQ queues (several deployments or benchmark runs can share one Redis). */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 letters, digits, _ . or -').default('callcenter'),
  /** BullMQ job lock (ms): a job whose worker died is recovered after its lock expired (BullMQ default 30 000). */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** BullMQ stalled-job check interval (ms; BullMQ default 30 000). */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** Outbound dialing (issue 11): calls in flight across every campaign and ad-hoc call; keep it below the trunk's capacity to leave room for inbound. */
  OUTBOUND_MAX_CONCURRENT: z.coerce.number().int().min(0).max(10_000).default(10),
  /** A dispatcher's claim on a contact (ms): covers the CPS wait and calls.create; an expired claim comes back. */
  DIAL_LEASE_MS: z.coerce.number().int().min(5_000).default(120_000),
  /** Dispatcher tick (ms; each tick adds 0–20 % jitter). */
  DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  /** Run a campaign dispatcher in `npm run worker` (several workers may run one each). */
  DISPATCHER_ENABLED: z.enum(['true', 'false']).default('true'),
  /** Ring timeout (s) of an outbound call before Twilio reports no-answer. */
  RING_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(25),
  /** Dial-failure breaker: failures among the last DIAL_BREAKER_WINDOW dials of a campaign that pause it. */
  DIAL_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1_000).default(5),
  DIAL_BREAKER_WINDOW: z.coerce.number().int().min(1).max(1_000).default(10),
  /** Largest contacts upload (bytes) of POST /api/campaigns/:id/contacts, `text/csv` body or multipart file; larger → 413, nothing imported. */
  CONTACTS_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).default(50 * 1024 * 1024),
  /** Twilio REST origin (a Twilio emulator or the repo's simulator stands in when set). */
  TWILIO_API_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().default('https://api.twilio.com')),
  /**
   * Usage prices overriding the list prices of src/domain/usage.ts DEFAULT_PRICES, merged per provider and kind, e.g.
   * `{"openai.chat":{"llm_prompt":2.5,"llm_completion":10},"twilio":{"telephony_outbound":0.014}}` (USD per 1M tokens,
   * per minute of STT audio, per 1K TTS characters, per telephony minute).
   */
  USAGE_PRICES_JSON: jsonEnv(priceTableSchema as z.ZodType<Record<string, Partial<Record<UsageKind, number>>>>, {}),
  /**
   * Monthly budget per provider in USD (calendar month, UTC), e.g. `{"openai.chat":200,"elevenlabs.tts":100,"twilio":500}`.
   * At 80 % admins are warned (audit log + warning log, once per month and provider); at 100 % new outbound dials
   * stop until the budget is raised here (inbound calls keep working). Providers absent: no budget.
   */
  USAGE_BUDGETS_JSON: jsonEnv(budgetsSchema, {}),
  FAKE_LLM_FIRST_TOKEN_MS: intMs(0),
  FAKE_TTS_FIRST_BYTE_MS: intMs(0),
  /** Fake LLM delay between streamed words (ms). */
  FAKE_LLM_PER_TOKEN_MS: intMs(0),
});

export type SttChoice = 'openai' | 'local' | 'fake';
export type TtsChoice = 'elevenlabs' | 'openai' | 'local' | 'fake';
export type LlmChoice = 'openai' | 'local' | 'fake';

export type ProviderChoice = {
  stt: SttChoice;
  tts: TtsChoice;
  llm: LlmChoice;
  embeddings: 'openai' | 'local';
  vector: 'pinecone' | 'postgres';
  /** Providers tried after the primary, in order (never contains the primary). */
  fallback: { stt: SttChoice[]; tts: TtsChoice[]; llm: LlmChoice[] };
};

/** Thrown when the environment does not validate; `issues` lists every offending variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The Config built from a validated environment; every missing production secret is reported in `missing`.
 * Its return type IS {@link Config}: the shape is declared once, here.
 */
function toConfig(e: Env, missing: string[]) {
  // Development defaults only when NODE_ENV says so explicitly (unset NODE_ENV defaulted to production above).
  const prod = e.NODE_ENV !== 'development' && e.NODE_ENV !== 'test';
  const pick = <K extends keyof typeof DEV_DEFAULTS>(key: K, value: string | undefined): string => {
    if (value !== undefined) return value;
    if (prod) missing.push(`${key}: required unless NODE_ENV=development or test (unset NODE_ENV means production)`);
    return DEV_DEFAULTS[key];
  };
  const publicBaseUrl = pick('PUBLIC_BASE_URL', e.PUBLIC_BASE_URL).replace(/\/+$/, '');
  if (!publicBaseUrl.startsWith('https://') && prod) missing.push('PUBLIC_BASE_URL: must be https:// in production');
  if (!e.RECORDINGS_S3_ACCESS_KEY_ID !== !e.RECORDINGS_S3_SECRET_ACCESS_KEY) missing.push('RECORDINGS_S3_ACCESS_KEY_ID / RECORDINGS_S3_SECRET_ACCESS_KEY: set both or neither');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    /** Trusted reverse-proxy hops (client IPs for rate limiting come from X-Forwarded-For only through these). */
    trustProxyHops: e.TRUST_PROXY_HOPS,
    /** Origin without trailing slash, e.g. `https://voice.example.com`. */
    publicBaseUrl,
    databaseUrl: pick('DATABASE_URL', e.DATABASE_URL),
    redisUrl: pick('REDIS_URL', e.REDIS_URL),
    twilio: { accountSid: pick('TWILIO_ACCOUNT_SID', e.TWILIO_ACCOUNT_SID), authToken: pick('TWILIO_AUTH_TOKEN', e.TWILIO_AUTH_TOKEN) },
    apiKey: pick('API_KEY', e.API_KEY),
    /** Accounts and API access: sessions, the /metrics token, rate limits and login lock-outs (see README "Accounts"). */
    auth: {
      sessionSecret: pick('SESSION_SECRET', e.SESSION_SECRET),
      sessionTtlMs: e.SESSION_TTL_MS,
      /** null → GET /metrics is not served (production without METRICS_TOKEN). */
      metricsToken: e.METRICS_TOKEN ?? (prod ? null : DEV_DEFAULTS.METRICS_TOKEN),
      apiRateLimitPerMin: e.API_RATE_LIMIT_PER_MIN,
      ipRateLimitPerMin: e.API_IP_RATE_LIMIT_PER_MIN,
      login: {
        maxFailuresPerAccountIp: e.LOGIN_MAX_FAILURES_PER_ACCOUNT_IP,
        lockoutMs: e.LOGIN_LOCKOUT_MS,
        maxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        maxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      },
    },
    crm: {
      webhookUrl: e.CRM_WEBHOOK_URL,
      webhookSecret: e.CRM_WEBHOOK_URL || !prod ? pick('CRM_WEBHOOK_SECRET', e.CRM_WEBHOOK_SECRET) : e.CRM_WEBHOOK_SECRET,
      maxAttempts: e.CRM_MAX_ATTEMPTS,
      retryBaseMs: e.CRM_RETRY_BASE_MS,
      /** Native connectors (HubSpot, Salesforce): credentials key (null in production without CRM_CREDENTIALS_KEY: connectors unavailable) and request timeout (ms). */
      credentialsKey: e.CRM_CREDENTIALS_KEY ?? (prod ? null : DEV_DEFAULTS.CRM_CREDENTIALS_KEY),
      connectorTimeoutMs: e.CRM_CONNECTOR_TIMEOUT_MS,
    },
    /** Signed event webhooks (src/webhooks/): secret encryption key, SSRF allow-list, retry policy, auto-disable. */
    webhooks: {
      /** null in production without WEBHOOK_SECRETS_KEY: endpoints cannot be created (503) and none is delivered to. */
      secretsKey: e.WEBHOOK_SECRETS_KEY ?? (prod ? null : DEV_DEFAULTS.WEBHOOK_SECRETS_KEY),
      allowPrivateHosts: (e.WEBHOOK_ALLOW_PRIVATE_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxDelayMs: e.WEBHOOK_RETRY_MAX_DELAY_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      disableAfterMs: Math.round(e.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000),
      relayIntervalMs: e.WEBHOOK_RELAY_INTERVAL_MS,
    },
    logLevel: e.LOG_LEVEL,
    providers: resolveProviders(e, missing),
    openai: {
      apiKey: e.OPENAI_API_KEY,
      /** SDK baseURL per capability (OPENAI_BASE_URL, overridden by STT_BASE_URL / LLM_BASE_URL); undefined = api.openai.com. */
      baseUrl: e.OPENAI_BASE_URL,
      sttBaseUrl: e.STT_BASE_URL ?? e.OPENAI_BASE_URL,
      llmBaseUrl: e.LLM_BASE_URL ?? e.OPENAI_BASE_URL,
      sttModel: e.OPENAI_STT_MODEL,
      llmModel: e.OPENAI_LLM_MODEL,
      embeddingsModel: e.OPENAI_EMBEDDINGS_MODEL,
      ttsModel: e.OPENAI_TTS_MODEL,
      ttsVoice: e.OPENAI_TTS_VOICE,
    },
    elevenlabs: { apiKey: e.ELEVENLABS_API_KEY, baseUrl: e.ELEVENLABS_BASE_URL, model: e.ELEVENLABS_MODEL, defaultVoiceId: e.ELEVENLABS_VOICE_ID },
    pinecone: { apiKey: e.PINECONE_API_KEY, indexHost: e.PINECONE_INDEX_HOST },
    /** Per-provider timeouts (ms), retries of retryable errors, circuit breaker (consecutive failures, open time in ms). */
    resilience: {
      sttTimeoutMs: e.STT_TIMEOUT_MS,
      llmFirstTokenTimeoutMs: e.LLM_FIRST_TOKEN_TIMEOUT_MS,
      ttsFirstByteTimeoutMs: e.TTS_FIRST_BYTE_TIMEOUT_MS,
      embeddingsTimeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
      vectorTimeoutMs: e.VECTOR_TIMEOUT_MS,
      maxRetries: e.PROVIDER_MAX_RETRIES,
      breakerFailures: e.BREAKER_FAILURES,
      breakerHalfOpenMs: e.BREAKER_HALF_OPEN_MS,
    },
    /** SIGTERM: live calls may go on this long (ms) before the agent says goodbye and hangs up. */
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    /** Media Streams limits: audio a peer may send ahead of the wall clock (ms). */
    media: { maxAheadMs: e.MEDIA_MAX_AHEAD_MS },
    /** Call recordings: local directory, or S3 when `s3` is set; `retentionDays` 0 = keep forever. */
    recordings: {
      enabled: e.RECORDINGS_ENABLED === 'true',
      dir: e.RECORDINGS_DIR ?? (e.NODE_ENV === 'test' ? path.join(os.tmpdir(), 'callcenter-test-recordings') : './data/recordings'),
      retentionDays: e.RECORDINGS_RETENTION_DAYS,
      s3: e.RECORDINGS_S3_BUCKET
        ? {
            bucket: e.RECORDINGS_S3_BUCKET,
            endpoint: e.RECORDINGS_S3_ENDPOINT,
            region: e.RECORDINGS_S3_REGION,
            credentials:
              e.RECORDINGS_S3_ACCESS_KEY_ID && e.RECORDINGS_S3_SECRET_ACCESS_KEY
                ? { accessKeyId: e.RECORDINGS_S3_ACCESS_KEY_ID, secretAccessKey: e.RECORDINGS_S3_SECRET_ACCESS_KEY }
                : undefined,
          }
        : null,
    },
    /** Browser test calls: how many one user (or API key) may hold at once. */
    webCalls: { perUser: e.WEB_CALLS_PER_USER },
    metricsEnabled: e.METRICS_ENABLED === 'true',
    /** Calls to a number without a (live) agent: routed to the default agent, or rejected with a spoken message. */
    unconfiguredNumber: e.UNCONFIGURED_NUMBER,
    engine: {
      endpointingSilenceMs: e.ENDPOINTING_SILENCE_MS,
      speculativeSttPauseMs: e.SPECULATIVE_STT_PAUSE_MS,
      adaptiveEndpointing: e.ADAPTIVE_ENDPOINTING === 'true' && e.SPECULATIVE_STT_PAUSE_MS > 0,
      endpointingCompleteMs: e.ENDPOINTING_COMPLETE_MS,
      endpointingContinuingMs: e.ENDPOINTING_CONTINUING_MS,
      vadMinSpeechMs: e.VAD_MIN_SPEECH_MS,
      maxUtteranceMs: e.MAX_UTTERANCE_MS,
      vadPositiveThreshold: e.VAD_POSITIVE_THRESHOLD,
      vadNegativeThreshold: e.VAD_NEGATIVE_THRESHOLD,
      /** dBFS, or null when the gate is off. */
      vadQuietGateDbfs: e.VAD_QUIET_GATE_DBFS === 'off' ? null : e.VAD_QUIET_GATE_DBFS,
      bargeInMinSpeechMs: e.BARGE_IN_MIN_SPEECH_MS,
      silenceRepromptMs: e.SILENCE_REPROMPT_MS,
      maxReprompts: e.MAX_REPROMPTS,
      minSttConfidence: e.STT_MIN_CONFIDENCE,
      maxCallDurationMs: e.MAX_CALL_DURATION_MS,
      deadAirFillerMs: e.DEAD_AIR_FILLER_MS,
      outboundGreetingWaitMs: e.OUTBOUND_GREETING_WAIT_MS,
    },
    local: { espeakBin: e.ESPEAK_BIN, sttModel: e.LOCAL_STT_MODEL, sttConcurrency: e.LOCAL_STT_CONCURRENCY, sttModelDir: e.LOCAL_STT_MODEL_DIR },
    /** BullMQ Redis key prefix shared by producers and workers. */
    queuePrefix: e.QUEUE_PREFIX,
    /** Post-call workers: job lock and stalled-check interval (ms), i.e. how soon a dead worker's job is retried. */
    worker: { lockDurationMs: e.WORKER_LOCK_DURATION_MS, stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS },
    /** Outbound campaigns: dispatcher, dialer and breaker (see src/campaigns). */
    outbound: {
      maxConcurrent: e.OUTBOUND_MAX_CONCURRENT,
      dialLeaseMs: e.DIAL_LEASE_MS,
      dispatchIntervalMs: e.DISPATCH_INTERVAL_MS,
      dispatcherEnabled: e.DISPATCHER_ENABLED === 'true',
      ringTimeoutS: e.RING_TIMEOUT_S,
      breaker: { threshold: e.DIAL_BREAKER_THRESHOLD, window: e.DIAL_BREAKER_WINDOW },
      twilioApiBaseUrl: e.TWILIO_API_BASE_URL.replace(/\/+$/, ''),
      contactsUploadMaxBytes: e.CONTACTS_UPLOAD_MAX_BYTES,
    },
    /** Usage and cost (issue 12): the price table (list prices + USAGE_PRICES_JSON) and monthly budgets (USD). */
    usage: { prices: mergePrices(DEFAULT_PRICES, e.USAGE_PRICES_JSON) as PriceTable, budgets: e.USAGE_BUDGETS_JSON as Readonly<Record<string, number>> },
    fake: { sttMs: e.FAKE_STT_MS, sttText: e.FAKE_STT_TEXT, llmFirstTokenMs: e.FAKE_LLM_FIRST_TOKEN_MS, llmPerTokenMs: e.FAKE_LLM_PER_TOKEN_MS, ttsFirstByteMs: e.FAKE_TTS_FIRST_BYTE_MS },
  };
}

/** The environment schema with its transform into {@link Config}; production gaps become issues of the parse. */
const configSchema = envSchema.transform((e, ctx) => {
  const missing: string[] = [];
  const config = toConfig(e, missing);
  for (const message of missing) ctx.addIssue({ code: 'custom', message });
  return config;
});

/** The validated, typed configuration (inferred from {@link configSchema}: declared once). */
export type Config = z.output<typeof configSchema>;

/**
 * Validates an environment (default `process.env`) and returns a frozen Config.
 * @throws ConfigError listing every invalid or (in production) missing variable; values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)));
  return Object.freeze(parsed.data);
}

type Env = z.infer<typeof envSchema>;

/**
 * `*_PROVIDER` choices: an explicit value wins; unset → the cloud provider when its key is present, else the
 * offline one. A cloud choice without its key (or Pinecone without PINECONE_INDEX_HOST) is reported in `missing`.
 * Fallback chains come from `*_FALLBACK` (comma list, `none` for no fallback) or default to every other provider
 * whose key is present, then `local`.
 */
function resolveProviders(e: Env, missing: string[]): ProviderChoice {
  const openai = !!e.OPENAI_API_KEY;
  const eleven = !!e.ELEVENLABS_API_KEY;
  const stt: SttChoice = e.STT_PROVIDER ?? (openai ? 'openai' : 'local');
  const llm: LlmChoice = e.LLM_PROVIDER ?? (openai ? 'openai' : 'local');
  const tts: TtsChoice = e.TTS_PROVIDER ?? (eleven ? 'elevenlabs' : openai ? 'openai' : 'local');
  const embeddings = e.EMBEDDINGS_PROVIDER ?? (openai ? 'openai' : 'local');
  const vector = e.VECTOR_PROVIDER ?? (e.PINECONE_API_KEY ? 'pinecone' : 'postgres');
  const needOpenai = [['STT_PROVIDER', stt], ['LLM_PROVIDER', llm], ['TTS_PROVIDER', tts], ['EMBEDDINGS_PROVIDER', embeddings]].filter(([, v]) => v === 'openai');
  for (const [k] of needOpenai) if (!openai) missing.push(`OPENAI_API_KEY: required when ${k}=openai`);
  if (tts === 'elevenlabs' && !eleven) missing.push('ELEVENLABS_API_KEY: required when TTS_PROVIDER=elevenlabs');
  if (vector === 'pinecone') {
    if (!e.PINECONE_API_KEY) missing.push('PINECONE_API_KEY: required when VECTOR_PROVIDER=pinecone');
    if (!e.PINECONE_INDEX_HOST) missing.push('PINECONE_INDEX_HOST: required when VECTOR_PROVIDER=pinecone');
  }
  const usable = { openai, elevenlabs: eleven, local: true, fake: true } as Record<string, boolean>;
  const chain = <T extends string>(name: string, raw: string | undefined, primary: T, all: readonly T[], auto: readonly T[]): T[] => {
    if (raw?.trim().toLowerCase() === 'none') return [];
    const list = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : auto.filter((p) => usable[p]);
    const out: T[] = [];
    for (const p of list) {
      if (!(all as readonly string[]).includes(p)) missing.push(`${name}: unknown provider "${p}" (one of ${all.join(', ')}, or none)`);
      else if (!usable[p]) missing.push(`${name}: "${p}" needs its API key`);
      else if (p !== primary && !out.includes(p as T)) out.push(p as T);
    }
    return out;
  };
  return {
    stt,
    tts,
    llm,
    embeddings,
    vector,
    fallback: {
      stt: chain<SttChoice>('STT_FALLBACK', e.STT_FALLBACK, stt, ['openai', 'local', 'fake'], stt === 'fake' ? [] : ['openai', 'local']),
      tts: chain<TtsChoice>('TTS_FALLBACK', e.TTS_FALLBACK, tts, ['elevenlabs', 'openai', 'local', 'fake'], tts === 'fake' ? [] : ['elevenlabs', 'openai', 'local']),
      llm: chain<LlmChoice>('LLM_FALLBACK', e.LLM_FALLBACK, llm, ['openai', 'local', 'fake'], llm === 'fake' ? [] : ['openai', 'local']),
    },
  };
}
