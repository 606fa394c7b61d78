import type { ChatMessage, ChatRequest, LlmProvider, Passage, ToolCall, ToolSpec } from '../providers/types';
import type { AgentProfile } from '../domain/agents';
import type { CallAction } from '../domain/calls';
import { SentenceChunker } from './sentence-chunker';

export type { AgentProfile, CallAction };

/**
 * Knowledge retrieval for the current turn (vector search over the agent's knowledge base). `signal` aborts the
 * embedding and the vector query (a barge-in frees the call at once). @throws on provider errors or abort.
 */
export interface Retriever {
  retrieve(agentId: string, query: string, k: number, o?: { language?: string; signal?: AbortSignal }): Promise<Passage[]>;
}

/** What running one tool call gave: the text the LLM sees, and an action for the call when the tool has one. */
export interface ToolResult {
  content: string;
  /** False when the tool failed (its content then explains why); default true. */
  ok?: boolean;
  action?: CallAction;
}

export type ReplyEvent =
  | { type: 'intent'; intent: string; confidence: number }
  | { type: 'first_token'; at: number }
  | { type: 'segment'; text: string }
  | { type: 'tool'; name: string; ok: boolean }
  | { type: 'action'; action: CallAction };

/** Options of one {@link Conversation.reply}. */
export interface ReplyOptions {
  /** Tools offered to the LLM (built-ins + the agent's HTTP tools). */
  tools?: ToolSpec[];
  /** Runs one tool call; must not throw (errors become the tool's content). */
  runTool?: (call: ToolCall, signal: AbortSignal) => Promise<ToolResult>;
  /** LLM rounds with tool results before giving up on more tools (default 3). */
  maxToolRounds?: number;
  /**
   * Told, after each LLM text delta, the text the LLM has written that is not yet in a yielded segment (the sentence
   * still being written, trimmed), and '' once a round's text is flushed: what a cut reply had generated beyond its
   * segments (its unheard text, see Speaker.heardOf).
   */
  onWriting?: (text: string) => void;
}

/**
 * One agent's dialogue state: the history (caller utterances, tool exchanges, and agent text the caller HEARD) and
 * the reply loop: retrieval → LLM stream → sentence segments, spoken as soon as each is complete. Tool calls are
 * run after the round's text (so "let me check" is already playing); their results go back to the LLM for another
 * round, unless a tool ends the conversation (transfer, end of call), which is yielded as an `action`.
 *
 * A reply works on a draft (the caller's message and the tool exchange of this turn): the history changes only when
 * the caller {@link commit}s it, so a reply cancelled before the caller heard anything (the caller kept talking and
 * the turn is answered again with the merged utterance) leaves no trace in what the LLM sees next.
 */
export class Conversation {
  private readonly history: ChatMessage[] = [];

  constructor(
    private readonly agent: AgentProfile,
    private readonly llm: LlmProvider,
    private readonly retriever: Retriever,
    private readonly now: () => number = () => performance.now(),
    private readonly topK = 3,
  ) {}

  /** Records agent speech that the caller heard (greeting, replies, the heard part of an interrupted reply). */
  addAgentSpeech(text: string): void {
    if (text.trim()) this.history.push({ role: 'assistant', content: text.trim() });
  }

  /** Appends a reply's draft (see {@link reply}) to the history. */
  commit(draft: ChatMessage[]): void {
    this.history.push(...draft);
  }

  /** A copy of the history (oldest first), for tests and summaries. */
  messages(): ChatMessage[] {
    return [...this.history];
  }

  /**
   * Runs one reply to the caller's `utterance` in `language` (ISO 639-1). `draft` (empty on entry) receives this
   * turn's messages — the caller's, then each complete tool exchange — for {@link commit}. Yields the intent (when the
   * LLM gives one), the time of the first LLM token (`now()`, ms), speakable segments as soon as each is complete,
   * tool outcomes and at most one terminal action. Aborts with `signal` (retrieval included). Retrieval failures
   * degrade to no passages (the LLM still answers); LLM errors propagate.
   */
  async *reply(utterance: string, language: string, signal: AbortSignal, draft: ChatMessage[], o: ReplyOptions = {}): AsyncGenerator<ReplyEvent> {
    draft.push({ role: 'user', content: utterance });
    let passages: Passage[] = [];
    try {
      passages = await this.retriever.retrieve(this.agent.id, utterance, this.topK, { language, signal });
    } catch {
      signal.throwIfAborted();
      passages = [];
    }
    let first = true;
    const maxRounds = o.maxToolRounds ?? 3;
    for (let round = 0; ; round++) {
      const offerTools = o.tools?.length && o.runTool && round < maxRounds ? o.tools : undefined;
      const chunker = new SentenceChunker();
      const calls: ToolCall[] = [];
      const stream = this.llm.chat(
        { system: this.agent.systemPrompt, messages: [...this.history, ...draft], passages, language, intents: this.agent.intents, tools: offerTools, ...llmOptions(this.agent) },
        signal,
      );
      for await (const delta of stream) {
        if (signal.aborted) return;
        if (delta.type === 'intent') {
          yield { type: 'intent', intent: delta.intent, confidence: delta.confidence };
        } else if (delta.type === 'text') {
          if (first) {
            first = false;
            yield { type: 'first_token', at: this.now() };
          }
          const done = chunker.push(delta.text);
          o.onWriting?.(chunker.pending);
          for (const s of done) yield { type: 'segment', text: s };
        } else if (delta.type === 'tool_call' && offerTools) {
          calls.push({ id: delta.id, name: delta.name, arguments: delta.arguments });
        }
      }
      const rest = chunker.flush();
      o.onWriting?.('');
      for (const s of rest) yield { type: 'segment', text: s };
      if (!calls.length || !o.runTool) return;
      if (first) {
        first = false;
        yield { type: 'first_token', at: this.now() };
      }
      const results: ToolResult[] = [];
      for (const call of calls) {
        results.push(await o.runTool(call, signal));
        signal.throwIfAborted();
      }
      // The exchange enters the history only when complete (a tool call without its result is an invalid request).
      draft.push({ role: 'assistant', content: '', toolCalls: calls });
      calls.forEach((c, i) => draft.push({ role: 'tool', toolCallId: c.id, content: results[i].content }));
      for (const [i, r] of results.entries()) yield { type: 'tool', name: calls[i].name, ok: r.ok !== false };
      const action = results.find((r) => r.action)?.action;
      if (action) {
        yield { type: 'action', action };
        return;
      }
    }
  }
}

/** The agent's LLM overrides (`llm.model`, `llm.temperature`) as request fields; none when it has none. */
function llmOptions(agent: AgentProfile): Pick<ChatRequest, 'model' | 'temperature'> {
  const { model, temperature } = agent.llm ?? {};
  return { ...(model ? { model } : {}), ...(temperature !== undefined ? { temperature } : {}) };
}
