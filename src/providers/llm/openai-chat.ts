import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createOpenAiClient, type OpenAiClientOptions } from '../openai/client';
import { malformedResponse, mapOpenAiError } from '../openai/errors';
import type { ChatMessage, ChatRequest, LlmDelta, LlmProvider } from '../types';
import { buildChatMessages } from './prompt';

/** Options of {@link OpenAiChatLlm}: the client options plus the model and sampling settings. */
export interface OpenAiChatOptions extends OpenAiClientOptions {
  /** Chat model. Default `gpt-4o-mini`. */
  model?: string;
  /** Sampling temperature (0..2). Default: the API's. */
  temperature?: number;
  /** Upper bound of generated tokens (`max_completion_tokens`). Default: the API's. */
  maxTokens?: number;
}

const ID = 'openai.chat';

/**
 * Converts a provider-neutral message to the Chat Completions wire shape: assistant `toolCalls` →
 * `tool_calls: [{ id, type: 'function', function: { name, arguments } }]` (content `null` when empty, as the API
 * sends it), `tool` messages → `{ role: 'tool', tool_call_id, content }`.
 */
export function toOpenAiMessage(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content || null,
            tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
          }
        : { role: 'assistant', content: m.content };
    default:
      return { role: m.role, content: m.content };
  }
}

interface PendingToolCall {
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

/**
 * LLM over OpenAI Chat Completions with `stream: true` (`POST /v1/chat/completions`, server-sent events of
 * `chat.completion.chunk`, ending `data: [DONE]`), through the official SDK; works with OpenAI-compatible servers.
 * Messages come from {@link buildChatMessages} (system prompt + "Reply in <language>" + numbered passages, then
 * the conversation); `req.tools` become `tools: [{ type: 'function', function: { name, description, parameters } }]`.
 * Yields `{ type: 'text' }` for every content delta as it arrives. Tool-call fragments are merged by `index` (`id`
 * and `function.name` arrive in an index's first fragment, `arguments` in pieces) and each call is yielded once as
 * `{ type: 'tool_call', id, name, arguments }` (arguments: the concatenated JSON text) when the choice finishes
 * (`finish_reason`, e.g. `tool_calls`) or the stream ends. Asks for `stream_options: { include_usage: true }` and yields
 * the final chunk's `usage` as `{ type: 'usage', promptTokens, completionTokens }`. Never yields `intent` deltas. Only choice 0 is used.
 * Abort stops the request/stream and throws the signal's reason.
 * @throws ProviderError — see ../openai/errors.ts; also (not retryable) for a stream without any choice, a chunk
 *   that is not a `chat.completion.chunk`, or a tool call without id/name.
 */
export class OpenAiChatLlm implements LlmProvider {
  readonly id = ID;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly temperature?: number;
  private readonly maxTokens?: number;

  constructor(o: OpenAiChatOptions) {
    this.client = createOpenAiClient(o);
    this.apiKey = o.apiKey;
    this.model = o.model ?? 'gpt-4o-mini';
    this.temperature = o.temperature;
    this.maxTokens = o.maxTokens;
  }

  /**
   * The request body sent for `req` (exposed for tests and logging; contains conversation text, no secrets).
   * `req.model` / `req.temperature` (an agent's overrides) win over the configured model and temperature.
   */
  buildRequest(req: ChatRequest): ChatCompletionCreateParamsStreaming {
    const temperature = req.temperature ?? this.temperature;
    return {
      model: req.model ?? this.model,
      stream: true,
      // The token counts arrive in one last chunk (`choices: []`, `usage`), turned into a `usage` delta.
      stream_options: { include_usage: true },
      messages: buildChatMessages(req).map(toOpenAiMessage),
      ...(req.tools?.length
        ? { tools: req.tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } })) }
        : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(this.maxTokens !== undefined ? { max_completion_tokens: this.maxTokens } : {}),
    };
  }

  async *chat(req: ChatRequest, signal: AbortSignal): AsyncGenerator<LlmDelta> {
    signal.throwIfAborted();
    const fail = (e: unknown) => mapOpenAiError(ID, e, { signal, secrets: [this.apiKey] });
    const calls = new Map<number, PendingToolCall>();
    let sawChoice = false;
    let flushed = false;
    const flushToolCalls = function* (): Generator<LlmDelta> {
      if (flushed) return;
      flushed = true;
      for (const c of [...calls.values()].sort((a, b) => a.index - b.index)) {
        if (!c.id || !c.name) throw malformedResponse(ID, `tool call at index ${c.index} without ${c.id ? 'a function name' : 'an id'}`);
        yield { type: 'tool_call', id: c.id, name: c.name, arguments: c.arguments };
      }
    };

    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await this.client.chat.completions.create(this.buildRequest(req), { signal });
    } catch (e) {
      throw fail(e);
    }
    const it = stream[Symbol.asyncIterator]();
    try {
      while (true) {
        let next: IteratorResult<ChatCompletionChunk>;
        try {
          next = await it.next();
        } catch (e) {
          throw fail(e);
        }
        if (next.done) break;
        const chunk = next.value as unknown;
        if (!chunk || typeof chunk !== 'object' || !Array.isArray((chunk as ChatCompletionChunk).choices)) {
          throw malformedResponse(ID, 'stream chunk without a "choices" array');
        }
        const usage = (chunk as ChatCompletionChunk).usage;
        if (usage) yield { type: 'usage', promptTokens: usage.prompt_tokens ?? 0, completionTokens: usage.completion_tokens ?? 0 };
        for (const choice of (chunk as ChatCompletionChunk).choices) {
          if (!choice || typeof choice !== 'object' || (choice.index ?? 0) !== 0) continue;
          sawChoice = true;
          const delta = choice.delta ?? {};
          const text = typeof delta.content === 'string' && delta.content ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
          if (text) yield { type: 'text', text };
          for (const tc of delta.tool_calls ?? []) {
            if (!Number.isInteger(tc?.index)) throw malformedResponse(ID, 'tool call fragment without an index');
            let c = calls.get(tc.index);
            if (!c) calls.set(tc.index, (c = { index: tc.index, arguments: '' }));
            // id and name come once, in an index's first fragment (some compatible servers repeat them: first wins).
            if (tc.id && !c.id) c.id = tc.id;
            if (tc.function?.name && !c.name) c.name = tc.function.name;
            if (tc.function?.arguments) c.arguments += tc.function.arguments;
          }
          if (choice.finish_reason) yield* flushToolCalls();
        }
      }
    } finally {
      // Stop the HTTP stream when the consumer stops early or a chunk was rejected (no-op after a clean end).
      await it.return?.().catch(() => undefined);
    }
    // The SDK ends a stream silently when its request is aborted: surface the caller's abort.
    signal.throwIfAborted();
    if (!sawChoice) throw malformedResponse(ID, 'stream ended without any choice');
    yield* flushToolCalls();
  }
}
