import type { TurnInput } from '../domain/calls';

/**
 * What the live-calls feed carries (Redis pub/sub channel `<prefix>:live:events`, the SSE stream
 * `GET /api/live/events` and the snapshot `GET /api/live/calls`). Times are ISO 8601; turn times are ms since the
 * media stream started (as stored).
 */

/** A call in progress on some server instance. */
export interface LiveCall {
  callSid: string;
  agentId: string;
  /** `inbound` | `outbound-api` | `outbound-dial` | `web`. */
  direction: string;
  from: string;
  to: string;
  /** When its media stream started (ISO 8601). */
  startedAt: string;
  /** The server instance holding the call's media stream (random per process start). */
  instanceId: string;
}

/** A stored turn as the feed shows it: {@link TurnInput} with its order in the call (`seq` 1, 2, …). */
export type LiveTurn = TurnInput & { seq: number };

/** A call event worth showing live (`transfer`, `hangup`, `barge_in`, `opt_out`, `dtmf` masked, `provider.error`). */
export interface LiveCallEvent {
  type: string;
  payload: Record<string, unknown>;
  at: string;
}

/** One message of the feed; `type` is also the SSE `event:` name. */
export type LiveEvent =
  | { type: 'call.started'; call: LiveCall }
  | { type: 'call.turn'; callSid: string; turn: LiveTurn }
  | { type: 'call.event'; callSid: string; event: LiveCallEvent }
  | { type: 'call.ended'; callSid: string; reason: string; endedAt: string };

/** A live call with its last turns (at most the feed's `turnsKept`, oldest first). */
export interface LiveCallSnapshot extends LiveCall {
  turns: LiveTurn[];
}

/** Call events the feed shows (the others — stream bookkeeping, tool payloads — stay in the call's stored events). */
export const SHOWN_EVENTS: ReadonlySet<string> = new Set(['transfer', 'hangup', 'barge_in', 'opt_out', 'dtmf', 'provider.error']);
