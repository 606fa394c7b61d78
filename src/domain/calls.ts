/**
 * Call and turn types every layer shares (engine, db, http, workers). No I/O, no imports of ours.
 * Times are milliseconds; turn times are ms since the call's media stream started.
 */

/** Per-turn latency breakdown of an agent reply (ms). */
export interface TurnTimings {
  endpointingMs?: number;
  sttMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  replyLatencyMs?: number;
  /** End-of-turn decision (endpointing fired) → first agent audio frame sent: the platform's own cost plus providers. */
  turnOverheadMs?: number;
  /** True when the dead-air filler was played because the reply had no audio in time. */
  fillerPlayed?: boolean;
  /** Words of the caller turn corrected to the agent's vocabulary (set only when some were). */
  vocabularyCorrections?: number;
}

/** One turn of the transcript as the engine writes it. */
export interface TurnInput {
  role: 'caller' | 'agent';
  text: string;
  language: string | null;
  /** ms since the media stream started. */
  startMs: number;
  endMs: number;
  intent?: string | null;
  sttConfidence?: number | null;
  /** Caller turns: false when the STT's confidence said it was not understood (another language, unintelligible). */
  understood?: boolean;
  /** Agent turns: the caller cut it (barge-in, DTMF, a newer utterance); `text` is then what the caller heard. */
  interrupted?: boolean;
  timings?: TurnTimings | null;
}

/** A stored turn: {@link TurnInput} with its order in the call (1, 2, …). */
export interface TurnRow extends TurnInput {
  seq: number;
}

/** A warm transfer as stored on the call. */
export interface TransferRecord {
  target: string;
  reason: string;
  /** Short transcript of the call so far, for the human who picks up. */
  summary: string;
  /** ISO 8601. */
  at: string;
}

/** Something the agent decided to do to the call (from a tool call, a DTMF key, a timer or the operator). */
export type CallAction = { type: 'transfer'; reason: string } | { type: 'end_call'; reason: string };

/** Twilio CallStatus values that end a call (PROTOCOLS.md, "Twilio REST"). */
export const TERMINAL_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
