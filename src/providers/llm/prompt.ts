import type { ChatMessage, ChatRequest, Passage } from '../types';

const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });

/** English name of an ISO 639-1 code via ICU (`es` → `Spanish`); the code itself when ICU does not know it. */
export function languageName(code: string): string {
  try {
    const name = languageNames.of(code);
    return name && name.toLowerCase() !== code.toLowerCase() ? name : code;
  } catch {
    return code; // RangeError: not a well-formed language tag
  }
}

/** The knowledge section of the system prompt: passages numbered from 1, best first, each with its title. */
export function formatPassages(passages: Passage[]): string {
  return passages.map((p, i) => `[${i + 1}] ${p.title.trim() || p.documentId}\n${p.text.trim()}`).join('\n\n');
}

/**
 * Builds the chat messages for one LLM turn (pure; shared by every chat-completions-style LLM adapter):
 * one system message = the agent's system prompt, then the reply-language instruction ("Reply in Spanish."),
 * then — when there are passages — the retrieved knowledge, numbered `[1]`, `[2]`, … with titles; followed by
 * the conversation messages unchanged and in order (oldest first, the caller's current utterance last; assistant
 * tool calls and `tool` results included). Adapters convert these provider-neutral messages to their wire shape.
 */
export function buildChatMessages(req: ChatRequest): ChatMessage[] {
  const parts = [req.system.trim()];
  parts.push(`Reply in ${languageName(req.language)}.`);
  if (req.passages.length) {
    parts.push(
      'Knowledge base passages (use them to answer; if they do not contain the answer, say you do not know):\n\n' +
        formatPassages(req.passages),
    );
  }
  return [{ role: 'system', content: parts.filter(Boolean).join('\n\n') }, ...req.messages];
}
