import type { Agent } from '../domain/agents';
import type { ToolSpec } from '../providers/types';

/**
 * The tools every agent offers the LLM, executed by the engine itself (src/engine/tool-runner.ts), and
 * {@link toolSpecsFor}, which adds the agent's HTTP tools. Parameters are JSON Schema objects as OpenAI's
 * function calling expects them (`type: "object"`, `properties`, `required`, `additionalProperties: false`).
 */

/** Names of the built-in tools. */
export type BuiltinToolName = 'transfer_to_human' | 'end_call' | 'search_knowledge';

/** One required string parameter. */
const oneString = (name: string, description: string): Record<string, unknown> => ({
  type: 'object',
  properties: { [name]: { type: 'string', description } },
  required: [name],
  additionalProperties: false,
});

/** `transfer_to_human { reason }`: hand the call to a person (the engine transfers after the reply is spoken). */
export const TRANSFER_TO_HUMAN: ToolSpec = {
  name: 'transfer_to_human',
  description:
    'Transfer the caller to a human agent. Use it when the caller asks for a person, when they are upset, or when you cannot help with their request.',
  parameters: oneString('reason', 'Why the caller is being transferred, in a few words (shown to the human agent).'),
};

/** `end_call { reason }`: hang up politely once the conversation is over. */
export const END_CALL: ToolSpec = {
  name: 'end_call',
  description: 'End the phone call. Use it only after the caller said goodbye or confirmed they need nothing else, and after saying goodbye yourself.',
  parameters: oneString('reason', 'Why the call is ending, in a few words.'),
};

/** `search_knowledge { query }`: search the agent's knowledge base beyond the passages already given. */
export const SEARCH_KNOWLEDGE: ToolSpec = {
  name: 'search_knowledge',
  description:
    "Search the company's knowledge base (policies, opening hours, orders, refunds...). Use it when the passages you were given do not answer the caller's question.",
  parameters: oneString('query', "What to look up, as a short question or keywords in the caller's language."),
};

/** The built-in tools, in the order they are offered. */
export const BUILTIN_TOOLS: readonly ToolSpec[] = [TRANSFER_TO_HUMAN, END_CALL, SEARCH_KNOWLEDGE];

/** Whether `name` is a built-in tool (executed by the engine, not over HTTP). */
export function isBuiltinTool(name: string): name is BuiltinToolName {
  return BUILTIN_TOOLS.some((t) => t.name === name);
}

/**
 * The tools offered to the LLM for `agent`: the built-ins, then the agent's HTTP tools as ToolSpec (name,
 * description, parameters only — never url, secret or timeout). An HTTP tool named like a built-in, or like an
 * earlier HTTP tool, is left out (the built-in / the first wins), so every name is unique.
 */
export function toolSpecsFor(agent: Pick<Agent, 'tools'>): ToolSpec[] {
  const specs: ToolSpec[] = [...BUILTIN_TOOLS];
  const seen = new Set(specs.map((t) => t.name));
  for (const t of agent.tools ?? []) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    specs.push({ name: t.name, description: t.description, parameters: t.parameters });
  }
  return specs;
}
