import { abortableSleep } from '../stt/fake';
import type { ChatRequest, LlmDelta, LlmProvider } from '../types';

/** One scripted reply: text (streamed word by word), optionally preceded by an intent and followed by tool calls. */
export interface FakeReply {
  text: string;
  intent?: { intent: string; confidence: number };
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
}

/** Options of {@link FakeLlm}. */
export interface FakeLlmOptions {
  /** Scripted replies used in order; when exhausted, `respond` is used (or an echo of the last user message). */
  replies?: Array<string | FakeReply>;
  respond?: (req: ChatRequest, callIndex: number) => string | FakeReply;
  /** Delay before the first delta (ms). Default 0. */
  firstTokenMs?: number;
  /** Delay between word deltas (ms). Default 0. */
  perTokenMs?: number;
  /** Make call `callIndex` fail with the returned error. */
  failWith?: (callIndex: number) => Error | undefined;
}

/** Rough token count of `text` for the fake's usage report: ⌈characters / 4⌉ (OpenAI's "1 token ≈ 4 characters of English"). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The text a chat request sends: system prompt, passages and every message. */
export function promptText(req: ChatRequest): string {
  return [req.system, ...req.passages.map((p) => p.text), ...req.messages.map((m) => m.content)].join('\n');
}

/**
 * Test/benchmark LLM: streams scripted replies as word deltas (`{type:'text'}`, each word with its trailing space)
 * after `firstTokenMs`, `perTokenMs` apart; an `intent` delta first when scripted, `tool_call` deltas, then a `usage`
 * delta ({@link estimateTokens} of the request and of the reply), as OpenAI's stream ends with its usage chunk.
 * Requests are recorded in `calls`. Abort stops the stream promptly, throwing the signal's reason.
 */
export class FakeLlm implements LlmProvider {
  readonly id = 'fake.llm';
  readonly calls: ChatRequest[] = [];
  private readonly queue: Array<string | FakeReply>;

  constructor(private readonly o: FakeLlmOptions = {}) {
    this.queue = [...(o.replies ?? [])];
  }

  async *chat(req: ChatRequest, signal: AbortSignal): AsyncGenerator<LlmDelta> {
    const i = this.calls.length;
    this.calls.push(req);
    await abortableSleep(this.o.firstTokenMs ?? 0, signal);
    const err = this.o.failWith?.(i);
    if (err) throw err;
    const r = this.queue.length
      ? this.queue.shift()!
      : this.o.respond
        ? this.o.respond(req, i)
        : `You said: ${req.messages[req.messages.length - 1]?.content ?? ''}`;
    const reply: FakeReply = typeof r === 'string' ? { text: r } : r;
    if (reply.intent) yield { type: 'intent', ...reply.intent };
    const words = reply.text.match(/\S+\s*/g) ?? [];
    for (let w = 0; w < words.length; w++) {
      signal.throwIfAborted();
      if (w > 0 && this.o.perTokenMs) await abortableSleep(this.o.perTokenMs, signal);
      yield { type: 'text', text: words[w] };
    }
    for (const t of reply.toolCalls ?? []) {
      signal.throwIfAborted();
      yield { type: 'tool_call', ...t };
    }
    // Like OpenAI with `include_usage`: the token counts come last (≈ 4 characters per token, as OpenAI's rule of thumb).
    yield { type: 'usage', promptTokens: estimateTokens(promptText(req)), completionTokens: estimateTokens(reply.text + (reply.toolCalls ?? []).map((t) => t.name + t.arguments).join('')) };
  }
}
