/**
 * Pure summary of a finished call's transcript: dominant language, final intent and counts (never the text).
 */

import type { TurnInput } from '../domain/calls';

/** The fields of a call turn this module reads (times in ms since the media stream started). */
export type SummaryTurn = Pick<TurnInput, 'role' | 'text' | 'language' | 'startMs' | 'endMs' | 'intent' | 'interrupted'>;

export interface TranscriptSummary {
  /** ISO 639-1 language with the most caller words (agent words when the caller said nothing tagged), or null. */
  language: string | null;
  /** The last caller intent that is not 'unknown' (or empty), or null. */
  intent: string | null;
  counts: {
    turns: number;
    callerTurns: number;
    agentTurns: number;
    callerWords: number;
    agentWords: number;
    interruptedTurns: number;
  };
  /** Last turn end − first turn start (ms); 0 without turns. */
  spanMs: number;
}

/** Number of whitespace-separated words in `text`. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t ? t.split(/\s+/u).length : 0;
}

/**
 * The language with the largest total word count among `turns` (ties: the language seen first), ignoring turns
 * without a language. Returns null when no turn has one.
 */
export function dominantLanguage(turns: readonly SummaryTurn[]): string | null {
  const words = new Map<string, number>();
  for (const t of turns) {
    if (!t.language) continue;
    words.set(t.language, (words.get(t.language) ?? 0) + wordCount(t.text));
  }
  let best: string | null = null;
  let bestWords = -1;
  for (const [lang, n] of words) {
    if (n > bestWords) {
      best = lang;
      bestWords = n;
    }
  }
  return best;
}

/**
 * Summarises a call's turns (ordered by seq). Language: dominant by caller-turn word count, falling back to agent
 * turns; intent: the last caller intent other than 'unknown'.
 */
export function summarizeTranscript(turns: readonly SummaryTurn[]): TranscriptSummary {
  const caller = turns.filter((t) => t.role === 'caller');
  const agent = turns.filter((t) => t.role === 'agent');
  const language = dominantLanguage(caller) ?? dominantLanguage(agent);
  let intent: string | null = null;
  for (const t of caller) {
    if (t.intent && t.intent !== 'unknown') intent = t.intent;
  }
  const spanMs = turns.length ? Math.max(...turns.map((t) => t.endMs)) - Math.min(...turns.map((t) => t.startMs)) : 0;
  return {
    language,
    intent,
    counts: {
      turns: turns.length,
      callerTurns: caller.length,
      agentTurns: agent.length,
      callerWords: caller.reduce((n, t) => n + wordCount(t.text), 0),
      agentWords: agent.reduce((n, t) => n + wordCount(t.text), 0),
      interruptedTurns: turns.filter((t) => t.interrupted).length,
    },
    spanMs: Math.max(0, spanMs),
  };
}
