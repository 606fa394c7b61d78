import OpenAI from 'openai';

/** Options shared by every OpenAI adapter's client. */
export interface OpenAiClientOptions {
  /** API key, sent as `Authorization: Bearer <key>`. Never logged. */
  apiKey: string;
  /** Base URL including `/v1` (e.g. `http://127.0.0.1:8080/v1` for a local OpenAI-compatible server). Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /**
   * SDK request timeout (ms). The SDK's timer covers the time until the response headers arrive (it is cleared
   * then), so for streams it bounds time-to-first-byte, not the whole body.
   */
  timeoutMs: number;
  /** SDK-level retries. Default 0: our own resilience layer retries retryable ProviderErrors. */
  maxRetries?: number;
}

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * Builds an `OpenAI` SDK client from typed options. Every option the SDK would otherwise read from the environment
 * (`OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, `OPENAI_LOG`, ...) is passed explicitly, so only
 * src/config.ts reads the environment; SDK logging is off (it could print response bodies).
 * @throws Error when `apiKey` is empty or `timeoutMs` is not a positive integer.
 */
export function createOpenAiClient(o: OpenAiClientOptions): OpenAI {
  if (!o.apiKey) throw new Error('OpenAI client: apiKey is required');
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs <= 0) throw new Error(`OpenAI client: timeoutMs must be a positive integer, got ${o.timeoutMs}`);
  return new OpenAI({
    apiKey: o.apiKey,
    baseURL: o.baseURL ?? OPENAI_DEFAULT_BASE_URL,
    organization: null,
    project: null,
    webhookSecret: null,
    timeout: o.timeoutMs,
    maxRetries: o.maxRetries ?? 0,
    logLevel: 'off',
  });
}
