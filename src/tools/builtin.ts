import type { Agent } from '../domain/agents';
import type { ToolSpec } from '../providers/types';

/**
 * The tools every agent offers the LLM, executed by the engine itself (src/engine/tool-runner.ts), and
 * {@link toolSpecsFor}, which adds the agent's HTTP tools. Parameters are JSON Schema objects as OpenAI's
 * function calling expects them (`type: "object"`, `properties`, `required`, `additionalProperties: false`).
 */

/** Names of the built-in tools. */
export type BuiltinToolName = 'transfer_to_human' | 'end_call' | 'search_knowledge' | 'opt_out' | 'schedule_callback';

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

/** `opt_out {}`: the callee asked not to be called again (DNC list; the call ends after the confirmation). */
export const OPT_OUT: ToolSpec = {
  name: 'opt_out',
  description:
    'Put the number on the do-not-call list. Use it when the person asks not to be called again (e.g. "stop calling me", "take me off your list"). Confirm politely in one short sentence; the call then ends.',
  parameters: { type: 'object', properties: {}, additionalProperties: false },
};

/** `schedule_callback { when }`: the callee asked to be called back at a given time. */
export const SCHEDULE_CALLBACK: ToolSpec = {
  name: 'schedule_callback',
  description:
    'Book a call back when the person asks to be called at another time (e.g. "call me back tomorrow at three"). The result gives the booked local time: confirm it aloud.',
  parameters: oneString('when', "The day and time the person asked for, in their own words (e.g. 'tomorrow at 3 pm')."),
};

/** The built-in tools of every call, in the order they are offered. */
export const BUILTIN_TOOLS: readonly ToolSpec[] = [TRANSFER_TO_HUMAN, END_CALL, SEARCH_KNOWLEDGE];

/** Built-in tools added for outbound calls (and calls with an outcome store): opt-out and callbacks. */
export const OUTBOUND_TOOLS: readonly ToolSpec[] = [OPT_OUT, SCHEDULE_CALLBACK];

/** Whether `name` is a built-in tool (executed by the engine, not over HTTP). */
export function isBuiltinTool(name: string): name is BuiltinToolName {
  return [...BUILTIN_TOOLS, ...OUTBOUND_TOOLS].some((t) => t.name === name);
}

/**
 * The tools offered to the LLM for `agent`: the built-ins (with `outbound`: also opt_out and schedule_callback), then the agent's HTTP tools as ToolSpec (name,
 * description, parameters only — never url, secret or timeout). An HTTP tool named like a built-in, or like an
 * earlier HTTP tool, is left out (the built-in / the first wins), so every name is unique.
 */
export function toolSpecsFor(agent: Pick<Agent, 'tools'>, o: { outbound?: boolean } = {}): ToolSpec[] {
  const specs: ToolSpec[] = [...BUILTIN_TOOLS, ...(o.outbound ? OUTBOUND_TOOLS : [])];
  const seen = new Set(specs.map((t) => t.name));
  for (const t of agent.tools ?? []) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    specs.push({ name: t.name, description: t.description, parameters: t.parameters });
  }
  return specs;
}
