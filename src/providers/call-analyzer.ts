import type { Config } from '../config';
import type { LlmCallAnalyzer } from '../domain/call-analysis';
import { OpenAiCallAnalyzer } from './llm/openai-analysis';

/**
 * The post-call LLM analyzer the configuration asks for, the way the server picks its LLM: `LLM_PROVIDER=openai`
 * (the default when `OPENAI_API_KEY` is set) with a key → {@link OpenAiCallAnalyzer} on `LLM_BASE_URL` /
 * `OPENAI_BASE_URL` with `OPENAI_LLM_MODEL`, request timeout `timeoutMs`; anything else (offline: `local`, `fake`) →
 * undefined, meaning the local analyzer (src/analytics/call-analysis.ts).
 */
export function buildCallAnalyzer(config: Readonly<Config>, timeoutMs: number): LlmCallAnalyzer | undefined {
  if (config.providers.llm !== 'openai' || !config.openai.apiKey) return undefined;
  return new OpenAiCallAnalyzer({ apiKey: config.openai.apiKey, baseURL: config.openai.llmBaseUrl, timeoutMs, model: config.openai.llmModel });
}
