import type { Disposition } from './disposition';
import type { ExtractedFields, ExtractionSchema } from './extraction-schema';

/**
 * Post-call analysis (issue 13 §4) shapes shared by the analyzers (src/analytics/call-analysis.ts, the local one;
 * src/providers/llm/openai-analysis.ts, the LLM one) and the worker step that stores the result on the call.
 */

/** What is known about a finished call, read from its rows (never from the LLM). */
export interface CallFacts {
  callSid: string;
  /** Twilio status (`completed`, `busy`, `no-answer`, `failed`, `canceled`, …). */
  status: string;
  direction: string;
  startedAt: Date;
  /** Transcript, oldest first. */
  turns: ReadonlyArray<{ role: 'caller' | 'agent'; text: string; interrupted?: boolean }>;
  /** `call_events` types with payloads (`opt_out`, `voicemail`, `callback`, `transfer`, `tool`, `twilio.status`, …). */
  events: ReadonlyArray<{ type: string; payload: Record<string, unknown> }>;
  /** The stored warm transfer, when one happened. */
  transfer: { target: string; reason: string; summary: string } | null;
  /** The outbound attempt's AMD answer (`human`, `machine_end_beep`, …), when known. */
  answeredBy: string | null;
  /** The agent's extraction schema, if any. */
  schema: ExtractionSchema | null;
}

/** The result stored on the call (`calls.summary`, `disposition`, `extracted_fields`, `analysis_method`). */
export interface CallAnalysis {
  summary: string;
  disposition: Disposition;
  fields: ExtractedFields;
  /** How it was produced: `llm:<model>` or `local:v1`. */
  method: string;
}

/** Outcomes the LLM may decide (only for a call that was a conversation; every other disposition is a recorded fact). */
export const LLM_OUTCOMES = ['resolved', 'unresolved', 'wrong_number'] as const;
export type LlmOutcome = (typeof LLM_OUTCOMES)[number];

/** What an LLM analyzer returns (fields not yet validated against the schema). */
export interface LlmAnalysis {
  summary: string;
  outcome: LlmOutcome;
  fields: Record<string, unknown>;
}

/** An analyzer backed by an LLM with structured output. */
export interface LlmCallAnalyzer {
  /** Stored as `analysis_method`, e.g. `llm:gpt-4o-mini`. */
  readonly method: string;
  /**
   * Summarizes a conversation and extracts `schema`'s fields.
   * @throws on any failure (HTTP error, timeout via `signal`, output that is not the requested JSON).
   */
  analyze(input: { transcript: string; schema: ExtractionSchema | null; startedAt: Date }, signal: AbortSignal): Promise<LlmAnalysis>;
}
