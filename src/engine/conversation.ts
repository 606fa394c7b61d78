import type { ChatMessage, LlmProvider, Passage } from '../providers/types';
import type { Agent } from '../db/agents';
import { SentenceChunker } from './sentence-chunker';

/** The parts of an agent the conversation needs. */
export type AgentProfile = Pick<Agent, 'id' | 'systemPrompt' | 'firstMessage' | 'defaultLanguage' | 'languages' | 'voices' | 'intents'>;

/** Knowledge retrieval for the current turn (vector search over the agent's knowledge base). */
export interface Retriever {
  retrieve(agentId: string, query: string, k: number, o?: { language?: string }): Promise<Passage[]>;
}

export type ReplyEvent =
  | { type: 'intent'; intent: string; confidence: number }
  | { type: 'first_token'; at: number }
  | { type: 'segment'; text: string };

/**
 * One agent's dialogue state: the history of what was said (caller utterances and agent text that was spoken) and
 * the reply loop: retrieval → LLM stream → sentence segments. Only text that reached the caller is kept in history.
 */
export class Conversation {
  private readonly history: ChatMessage[] = [];

  constructor(
    private readonly agent: AgentProfile,
    private readonly llm: LlmProvider,
    private readonly retriever: Retriever,
    private readonly topK = 3,
  ) {}

  /** Records agent speech that the caller heard (greeting, replies). */
  addAgentSpeech(text: string): void {
    if (text.trim()) this.history.push({ role: 'assistant', content: text.trim() });
  }

  /**
   * Runs one reply to `utterance` in `language` (ISO 639-1). Yields the intent, the time of the first LLM token
   * (performance.now()) and speakable segments as soon as each is complete. Aborts with `signal`.
   * Retrieval failures degrade to no passages (the LLM still answers); LLM errors propagate.
   */
  async *reply(utterance: string, language: string, signal: AbortSignal): AsyncGenerator<ReplyEvent> {
    this.history.push({ role: 'user', content: utterance });
    let passages: Passage[] = [];
    try {
      passages = await this.retriever.retrieve(this.agent.id, utterance, this.topK, { language });
    } catch {
      passages = [];
    }
    const chunker = new SentenceChunker();
    let first = true;
    const stream = this.llm.chat(
      { system: this.agent.systemPrompt, messages: [...this.history], passages, language, intents: this.agent.intents },
      signal,
    );
    for await (const delta of stream) {
      if (signal.aborted) return;
      if (delta.type === 'intent') {
        yield { type: 'intent', intent: delta.intent, confidence: delta.confidence };
      } else if (delta.type === 'text') {
        if (first) {
          first = false;
          yield { type: 'first_token', at: performance.now() };
        }
        for (const s of chunker.push(delta.text)) yield { type: 'segment', text: s };
      }
    }
    for (const s of chunker.flush()) yield { type: 'segment', text: s };
  }
}
