import { z } from 'zod';

/**
 * The only reader of `process.env`. One zod schema → a frozen, typed {@link Config}.
 *
 * Outside production every secret has a development default so that `npm run demo` and `npm test` work on a
 * fresh clone; with `NODE_ENV=production` the secrets (`TWILIO_AUTH_TOKEN`, `API_KEY`, `CRM_WEBHOOK_SECRET` when
 * `CRM_WEBHOOK_URL` is set) and the service URLs must be given explicitly.
 */

const DEV_DEFAULTS = {
  PUBLIC_BASE_URL: 'https://localhost:3000',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/callcenter',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'dev-twilio-auth-token',
  API_KEY: 'dev-api-key',
  CRM_WEBHOOK_SECRET: 'whsec_ZGV2LWNybS13ZWJob29rLXNlY3JldC0zMmJ5dGVz',
} as const;

const intMs = (def: number) => z.coerce.number().int().nonnegative().default(def);
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalUrl = z.preprocess(emptyToUndefined, z.string().url().optional());

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
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
  CRM_WEBHOOK_SECRET: z.preprocess(emptyToUndefined, z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must look like whsec_<base64>').optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STT_PROVIDER: z.enum(['local', 'fake']).default('local'),
  TTS_PROVIDER: z.enum(['local', 'fake']).default('local'),
  LLM_PROVIDER: z.enum(['local', 'fake']).default('local'),
  EMBEDDINGS_PROVIDER: z.enum(['local']).default('local'),
  VECTOR_PROVIDER: z.enum(['postgres']).default('postgres'),
  /** VAD: silence after speech that ends the caller's turn (ms). */
  ENDPOINTING_SILENCE_MS: intMs(800),
  /** VAD: speech shorter than this is treated as noise (ms). */
  VAD_MIN_SPEECH_MS: intMs(250),
  /** Hard cap on one caller utterance (ms). */
  MAX_UTTERANCE_MS: intMs(30_000),
  /** Silero speech-probability thresholds (start / continue). */
  VAD_POSITIVE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.5),
  VAD_NEGATIVE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.35),
  /** Post-call job retries (CRM sync uses exponential backoff from CRM_RETRY_BASE_MS). */
  CRM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  CRM_RETRY_BASE_MS: intMs(2_000),
  ESPEAK_BIN: z.string().default('espeak-ng'),
  PYTHON_BIN: z.string().default('/usr/bin/python3'),
  FAKE_STT_MS: intMs(0),
  FAKE_LLM_FIRST_TOKEN_MS: intMs(0),
  FAKE_TTS_FIRST_BYTE_MS: intMs(0),
});

export type ProviderChoice = {
  stt: 'local' | 'fake';
  tts: 'local' | 'fake';
  llm: 'local' | 'fake';
  embeddings: 'local';
  vector: 'postgres';
};

export interface Config {
  env: 'development' | 'test' | 'production';
  port: number;
  /** Trusted reverse-proxy hops (client IPs for rate limiting come from X-Forwarded-For only through these). */
  trustProxyHops: number;
  /** Origin without trailing slash, e.g. `https://voice.example.com`. */
  publicBaseUrl: string;
  databaseUrl: string;
  redisUrl: string;
  twilio: { accountSid: string; authToken: string };
  apiKey: string;
  crm: { webhookUrl?: string; webhookSecret?: string; maxAttempts: number; retryBaseMs: number };
  logLevel: string;
  providers: ProviderChoice;
  engine: {
    endpointingSilenceMs: number;
    vadMinSpeechMs: number;
    maxUtteranceMs: number;
    vadPositiveThreshold: number;
    vadNegativeThreshold: number;
  };
  local: { espeakBin: string; pythonBin: string };
  fake: { sttMs: number; llmFirstTokenMs: number; ttsFirstByteMs: number };
}

/** Thrown when the environment does not validate; `issues` lists every offending variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates an environment (default `process.env`) and returns a frozen Config.
 * @throws ConfigError listing every invalid or (in production) missing variable; values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const prod = e.NODE_ENV === 'production';
  const missing: string[] = [];
  const pick = <K extends keyof typeof DEV_DEFAULTS>(key: K, value: string | undefined): string => {
    if (value !== undefined) return value;
    if (prod) missing.push(`${key}: required when NODE_ENV=production`);
    return DEV_DEFAULTS[key];
  };
  const publicBaseUrl = pick('PUBLIC_BASE_URL', e.PUBLIC_BASE_URL).replace(/\/+$/, '');
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    publicBaseUrl,
    databaseUrl: pick('DATABASE_URL', e.DATABASE_URL),
    redisUrl: pick('REDIS_URL', e.REDIS_URL),
    twilio: { accountSid: pick('TWILIO_ACCOUNT_SID', e.TWILIO_ACCOUNT_SID), authToken: pick('TWILIO_AUTH_TOKEN', e.TWILIO_AUTH_TOKEN) },
    apiKey: pick('API_KEY', e.API_KEY),
    crm: {
      webhookUrl: e.CRM_WEBHOOK_URL,
      webhookSecret: e.CRM_WEBHOOK_URL || !prod ? pick('CRM_WEBHOOK_SECRET', e.CRM_WEBHOOK_SECRET) : e.CRM_WEBHOOK_SECRET,
      maxAttempts: e.CRM_MAX_ATTEMPTS,
      retryBaseMs: e.CRM_RETRY_BASE_MS,
    },
    logLevel: e.LOG_LEVEL,
    providers: { stt: e.STT_PROVIDER, tts: e.TTS_PROVIDER, llm: e.LLM_PROVIDER, embeddings: e.EMBEDDINGS_PROVIDER, vector: e.VECTOR_PROVIDER },
    engine: {
      endpointingSilenceMs: e.ENDPOINTING_SILENCE_MS,
      vadMinSpeechMs: e.VAD_MIN_SPEECH_MS,
      maxUtteranceMs: e.MAX_UTTERANCE_MS,
      vadPositiveThreshold: e.VAD_POSITIVE_THRESHOLD,
      vadNegativeThreshold: e.VAD_NEGATIVE_THRESHOLD,
    },
    local: { espeakBin: e.ESPEAK_BIN, pythonBin: e.PYTHON_BIN },
    fake: { sttMs: e.FAKE_STT_MS, llmFirstTokenMs: e.FAKE_LLM_FIRST_TOKEN_MS, ttsFirstByteMs: e.FAKE_TTS_FIRST_BYTE_MS },
  };
  if (!publicBaseUrl.startsWith('https://') && prod) missing.push('PUBLIC_BASE_URL: must be https:// in production');
  if (missing.length) throw new ConfigError(missing);
  return Object.freeze(config);
}
