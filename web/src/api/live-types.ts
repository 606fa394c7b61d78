/**
 * Shapes of the live-calls API (the live helper's src/http/api/live.ts: LiveTurn, LiveCall, LiveCallSnapshot,
 * LiveEvent), hand-written until the routes are in the generated schema. Types only (no DOM), so the page state
 * (pages/live/live-state.ts) and its unit test need nothing else.
 */
export interface TurnTimings {
  endpointingMs?: number;
  sttMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstByteMs?: number;
  replyLatencyMs?: number;
  turnOverheadMs?: number;
  fillerPlayed?: boolean;
  vocabularyCorrections?: number;
}

export interface LiveTurn {
  seq: number;
  role: 'caller' | 'agent';
  text: string;
  language: string | null;
  /** ms since the media stream started */
  startMs: number;
  endMs: number;
  intent?: string | null;
  sttConfidence?: number | null;
  understood?: boolean;
  interrupted?: boolean;
  timings?: TurnTimings | null;
}

export interface LiveCall {
  callSid: string;
  agentId: string;
  /** `inbound` | `outbound-api` | `outbound-dial` | `web` */
  direction: string;
  from: string;
  to: string;
  startedAt: string;
  instanceId: string;
}

export interface LiveCallSnapshot extends LiveCall {
  turns: LiveTurn[];
}

export type LiveEvent =
  | { type: 'call.started'; call: LiveCall }
  | { type: 'call.turn'; callSid: string; turn: LiveTurn }
  | { type: 'call.event'; callSid: string; event: { type: string; payload: Record<string, unknown>; at: string } }
  | { type: 'call.ended'; callSid: string; reason: string; endedAt: string };
