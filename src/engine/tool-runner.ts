import type { Passage, ToolCall } from '../providers/types';
import type { HttpToolSpec } from '../domain/tools';
import type { AgentProfile, Retriever, ToolResult } from './conversation';

/** Result of calling an agent's HTTP tool (see src/tools/http-tool.ts). */
export type HttpToolOutcome = { ok: true; status: number; text: string } | { ok: false; error: string };

/** Dependencies of {@link runToolCall}. */
export interface ToolRunnerDeps {
  agent: AgentProfile;
  callSid: string;
  retriever: Retriever;
  /** Language of the current turn (ISO 639-1), for knowledge search. */
  language: () => string;
  /** Executes an HTTP tool (signed POST); never throws. */
  httpTool?: (spec: HttpToolSpec, args: Record<string, unknown>, o: { callSid: string; agentId: string; signal: AbortSignal }) => Promise<HttpToolOutcome>;
  /** `opt_out`: records the callee's opt-out (DNC); absent: the tool is not available on this call. */
  optOut?: () => void;
  /** `schedule_callback {when}`: books the callback; returns the text for the LLM (`error: …` when not booked). */
  scheduleCallback?: (when: string, language: string) => Promise<string>;
}

/** Cap on the text one tool hands back to the LLM (characters). */
const MAX_TOOL_TEXT = 4_000;

/**
 * Runs one LLM tool call and never throws (errors become `error: …` content the LLM can read):
 * - `transfer_to_human {reason}` → action transfer; `end_call {reason}` → action end_call (the engine performs them
 *   after the reply has been spoken);
 * - `search_knowledge {query}` → the agent's top passages as numbered text;
 * - `opt_out {}` → the opt-out is recorded and the call ends after the reply (action end_call, reason `opt_out`);
 * - `schedule_callback {when}` → the callback is booked (see outcomeTools) and the LLM confirms the time;
 * - any of the agent's HTTP tools → the signed POST's response text (capped at 4000 characters).
 */
export async function runToolCall(call: ToolCall, d: ToolRunnerDeps, signal: AbortSignal): Promise<ToolResult> {
  let args: Record<string, unknown>;
  try {
    const parsed = call.arguments.trim() ? JSON.parse(call.arguments) : {};
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    args = parsed;
  } catch {
    return failure(`the arguments of ${call.name} are not a JSON object`);
  }
  const reason = typeof args.reason === 'string' ? args.reason.slice(0, 200) : '';
  switch (call.name) {
    case 'transfer_to_human':
      return { content: 'The caller is being transferred to a human agent.', action: { type: 'transfer', reason: reason || 'requested by the caller' } };
    case 'end_call':
      return { content: 'The call is ending.', action: { type: 'end_call', reason: reason || 'conversation finished' } };
    case 'search_knowledge': {
      const query = typeof args.query === 'string' ? args.query.trim() : '';
      if (!query) return failure('search_knowledge needs a non-empty "query"');
      try {
        const passages = await d.retriever.retrieve(d.agent.id, query, 3, { language: d.language(), signal });
        return { content: formatPassages(passages) };
      } catch (err) {
        return failure(`knowledge search failed (${(err as Error).message})`);
      }
    }
    case 'opt_out':
      if (!d.optOut) return failure('opt_out is not available on this call');
      d.optOut();
      return { content: 'The number is on the do-not-call list. Confirm politely in one short sentence; the call then ends.', action: { type: 'end_call', reason: 'opt_out' } };
    case 'schedule_callback': {
      const when = typeof args.when === 'string' ? args.when.trim().slice(0, 200) : '';
      if (!when) return failure('schedule_callback needs a non-empty "when"');
      if (!d.scheduleCallback) return failure('schedule_callback is not available on this call');
      const text = await d.scheduleCallback(when, d.language());
      return text.startsWith('error: ') ? failure(text.slice(7)) : { content: text };
    }
    default: {
      const spec = d.agent.tools?.find((t) => t.name === call.name);
      if (!spec || !d.httpTool) return failure(`unknown tool ${call.name}`);
      const r = await d.httpTool(spec, args, { callSid: d.callSid, agentId: d.agent.id, signal });
      return r.ok ? { content: r.text.slice(0, MAX_TOOL_TEXT) } : failure(r.error);
    }
  }
}

/** A failed tool call: `error: …` content the LLM can read, marked `ok: false`. */
function failure(message: string): ToolResult {
  return { content: `error: ${message}`, ok: false };
}

function formatPassages(passages: Passage[]): string {
  if (!passages.length) return 'No matching knowledge.';
  return passages.map((p, i) => `[${i + 1}] ${p.title}: ${p.text}`).join('\n').slice(0, MAX_TOOL_TEXT);
}
