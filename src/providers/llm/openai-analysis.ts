import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { LLM_OUTCOMES, type LlmAnalysis, type LlmCallAnalyzer } from '../../domain/call-analysis';
import type { ExtractionSchema } from '../../domain/extraction-schema';
import { createOpenAiClient, type OpenAiClientOptions } from '../openai/client';
import { malformedResponse, mapOpenAiError } from '../openai/errors';

const ID = 'openai.analysis';

/** Options of {@link OpenAiCallAnalyzer}. */
export interface OpenAiAnalysisOptions extends OpenAiClientOptions {
  /** Chat model (must support structured outputs). Default `gpt-4o-mini`. */
  model?: string;
}

const SYSTEM = [
  'You analyse a finished phone call between a caller and an AI agent.',
  'Return: "summary", two to four sentences: what the caller wanted, what the agent did, how it ended;',
  '"outcome": "resolved" when the caller\'s request was handled, "unresolved" when it was not, "wrong_number" when the callee says it is the wrong person or number;',
  '"fields": the requested fields as stated in the call, null when not said. Never invent values.',
].join(' ');

/**
 * The JSON schema sent as `response_format: { type: 'json_schema', json_schema: { name: 'call_analysis', strict:
 * true, schema } }` (OpenAI structured outputs). Strict mode wants every property `required` and
 * `additionalProperties: false` on every object, so an optional agent field is typed `[type, 'null']`; `format` is
 * moved into the description (not every model accepts it) — the answer is checked against the agent's schema anyway.
 */
export function analysisResponseSchema(schema: ExtractionSchema | null): Record<string, unknown> {
  const props = schema?.properties ?? {};
  const fields = Object.fromEntries(
    Object.entries(props).map(([name, p]) => {
      const description = [p.description, p.format ? `Format: ${p.format === 'date-time' ? 'ISO 8601 date-time with offset' : p.format}.` : ''].filter(Boolean).join(' ');
      return [name, { type: [p.type, 'null'], ...(description ? { description } : {}), ...(p.enum ? { enum: [...p.enum, null] } : {}) }];
    }),
  );
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'outcome', 'fields'],
    properties: {
      summary: { type: 'string', description: 'Two to four sentences.' },
      outcome: { type: 'string', enum: [...LLM_OUTCOMES] },
      fields: { type: 'object', additionalProperties: false, required: Object.keys(fields), properties: fields },
    },
  };
}

/**
 * Post-call analysis with OpenAI Chat Completions structured output (non-streamed `POST /v1/chat/completions` with
 * `response_format: json_schema`, strict), through the official SDK; works with any compatible server.
 * `method` is `llm:<model>`.
 * @throws ProviderError (../openai/errors.ts) for HTTP/network failures; a non-retryable one for a refusal, a
 *   truncated answer (`finish_reason: 'length'`) or content that is not JSON of the requested shape.
 */
export class OpenAiCallAnalyzer implements LlmCallAnalyzer {
  readonly method: string;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly apiKey: string;

  constructor(o: OpenAiAnalysisOptions) {
    this.client = createOpenAiClient(o);
    this.model = o.model ?? 'gpt-4o-mini';
    this.apiKey = o.apiKey;
    this.method = `llm:${this.model}`;
  }

  /** The request body for one transcript (exposed for tests; contains call text, no secrets). */
  buildRequest(transcript: string, schema: ExtractionSchema | null, startedAt: Date): ChatCompletionCreateParamsNonStreaming {
    return {
      model: this.model,
      temperature: 0,
      messages: [
        { role: 'system', content: `${SYSTEM} The call started at ${startedAt.toISOString()} (use it for relative dates).` },
        { role: 'user', content: transcript || '(no words were said)' },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'call_analysis', strict: true, schema: analysisResponseSchema(schema) } },
    };
  }

  async analyze(input: { transcript: string; schema: ExtractionSchema | null; startedAt: Date }, signal: AbortSignal): Promise<LlmAnalysis> {
    let res: OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await this.client.chat.completions.create(this.buildRequest(input.transcript, input.schema, input.startedAt), { signal });
    } catch (e) {
      throw mapOpenAiError(ID, e, { signal, secrets: [this.apiKey] });
    }
    const choice = res?.choices?.[0];
    if (!choice?.message) throw malformedResponse(ID, 'no choice in the response');
    if (choice.message.refusal) throw malformedResponse(ID, 'the model refused');
    if (choice.finish_reason === 'length') throw malformedResponse(ID, 'answer truncated (finish_reason length)');
    let parsed: unknown;
    try {
      parsed = JSON.parse(choice.message.content ?? '');
    } catch {
      throw malformedResponse(ID, 'content is not JSON');
    }
    const p = parsed as { summary?: unknown; outcome?: unknown; fields?: unknown };
    if (typeof p?.summary !== 'string' || !(LLM_OUTCOMES as readonly string[]).includes(p.outcome as string) || !p.fields || typeof p.fields !== 'object') {
      throw malformedResponse(ID, 'content does not match the requested schema');
    }
    return { summary: p.summary, outcome: p.outcome as LlmAnalysis['outcome'], fields: p.fields as Record<string, unknown> };
  }
}
