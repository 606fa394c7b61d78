import type { CallAnalysis, CallFacts, LlmCallAnalyzer } from '../domain/call-analysis';
import { validateExtractedFields } from '../domain/extraction-schema';
import { clip, localSummary } from './call-summary';
import { factualDisposition, localDisposition } from './disposition-rules';
import { extractFieldsLocally } from './field-extractor';

/** `analysis_method` of the offline analyzer (bump when its rules change). */
export const LOCAL_ANALYSIS_METHOD = 'local:v1';

/** Default time the LLM gets before the local analyzer takes over (ms). */
export const DEFAULT_LLM_ANALYSIS_TIMEOUT_MS = 20_000;

/** Dispositions with no conversation to analyse: the LLM is not asked. */
const NO_CONVERSATION = new Set(['no_answer', 'busy', 'failed', 'voicemail', 'abandoned']);

/** The offline analysis: {@link localDisposition} (facts, else the conversation's outcome), {@link localSummary}, {@link extractFieldsLocally}. */
export function analyzeLocally(f: CallFacts): CallAnalysis {
  const disposition = localDisposition(f);
  return {
    summary: localSummary(f.turns, disposition),
    disposition,
    fields: f.schema ? extractFieldsLocally(f.schema, f.turns, f.startedAt) : {},
    method: LOCAL_ANALYSIS_METHOD,
  };
}

/** "Caller: …\nAgent: …" lines of a transcript, as the LLM reads it. */
export function transcriptText(turns: CallFacts['turns']): string {
  return turns
    .filter((t) => t.text.trim())
    .map((t) => `${t.role === 'caller' ? 'Caller' : 'Agent'}: ${t.text.trim()}${t.interrupted ? ' [interrupted]' : ''}`)
    .join('\n');
}

/**
 * Analyses one finished call (issue 13 §4). The disposition's facts (no_answer, busy, failed, voicemail, opted_out,
 * transferred, callback_booked, abandoned: src/analytics/disposition-rules.ts) always come from the call's records.
 * When `o.llm` is given and the call was a conversation, the LLM writes the summary, extracts the fields (validated
 * against the schema: invalid values are dropped) and — only when the facts decide nothing — picks resolved /
 * unresolved / wrong_number; its method (`llm:<model>`) is recorded. If it throws or takes longer than `o.timeoutMs`
 * (default {@link DEFAULT_LLM_ANALYSIS_TIMEOUT_MS}), the local analysis is returned with `fallbackReason` set.
 * @throws `o.signal.reason` only when the caller's own `o.signal` fired (e.g. the job was cancelled); never otherwise.
 */
export async function analyzeCall(
  f: CallFacts,
  o: { llm?: LlmCallAnalyzer; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<CallAnalysis & { fallbackReason?: string }> {
  const facts = factualDisposition(f);
  if (!o.llm || (facts && NO_CONVERSATION.has(facts))) return analyzeLocally(f);
  const timeout = AbortSignal.timeout(o.timeoutMs ?? DEFAULT_LLM_ANALYSIS_TIMEOUT_MS);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  try {
    const r = await abortable(o.llm.analyze({ transcript: transcriptText(f.turns), schema: f.schema, startedAt: f.startedAt }, signal), signal);
    const summary = clip(String(r.summary ?? ''), 1_000);
    if (!summary) throw new Error('empty summary');
    return {
      summary,
      disposition: facts ?? r.outcome,
      fields: f.schema ? validateExtractedFields(f.schema, r.fields ?? {}).fields : {},
      method: o.llm.method,
    };
  } catch (err) {
    // The job itself was cancelled (worker shutting down): let it be retried rather than store a fallback.
    if (o.signal?.aborted) throw o.signal.reason;
    const reason = timeout.aborted ? 'timeout' : err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
    return { ...analyzeLocally(f), fallbackReason: reason };
  }
}

/** Rejects as soon as `signal` fires even if `p` ignores it. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
