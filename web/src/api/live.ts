import { requestJson } from './json';
import type { LiveCallSnapshot, LiveEvent } from './live-types';

/**
 * The live-calls API (src/http/api/live.ts and src/live/listen.ts; shapes from the generated schema, see live-types.ts):
 * - `GET /api/live/calls` → `{ calls: LiveCallSnapshot[] }` (each with its last 50 turns);
 * - `GET /api/live/events` (SSE): `event: <LiveEvent.type>`, `data: <LiveEvent JSON>`; no replay: open it first,
 *   then load the snapshot, and apply turns by `seq`;
 * - `POST /api/live/calls/:callSid/hangup`, `…/transfer { to }` (supervisor) → 202, 404 when not live;
 * - WS `/api/live/calls/:callSid/listen` (supervisor): binary frames, byte 0 the track ({@link LISTEN_TRACK}), then
 *   raw 8 kHz mu-law.
 */
export type { LiveCall, LiveCallSnapshot, LiveEvent, LiveTurn, TurnTimings } from './live-types';

/** SSE event names of {@link LiveEvent}. */
export const LIVE_EVENT_TYPES: LiveEvent['type'][] = ['call.started', 'call.turn', 'call.event', 'call.ended'];

/** Byte 0 of a listen-in frame: 0 caller audio, 1 agent audio (may run ahead), 2 clear (drop queued agent audio). */
export const LISTEN_TRACK = { caller: 0, agent: 1, clear: 2 } as const;

/** Path of the live events stream (for EventSource). */
export const LIVE_EVENTS_PATH = '/api/live/events';

/** Calls live now on any instance. @throws ApiFailure */
export function fetchLiveCalls(): Promise<LiveCallSnapshot[]> {
  return requestJson<{ calls: LiveCallSnapshot[] }>('GET', '/api/live/calls').then((r) => r.calls);
}

/** Hangs up a live call (supervisor): goodbye, then hang-up. @throws ApiFailure (404 not live, 403) */
export function hangUpLiveCall(callSid: string): Promise<void> {
  return requestJson('POST', `/api/live/calls/${encodeURIComponent(callSid)}/hangup`).then(() => undefined);
}

/** Transfers a live call to `to` (supervisor; E.164 or a number the server parses). @throws ApiFailure (400 issues, 404) */
export function transferLiveCall(callSid: string, to: string): Promise<void> {
  return requestJson('POST', `/api/live/calls/${encodeURIComponent(callSid)}/transfer`, { to }).then(() => undefined);
}

/** The listen-in WebSocket URL of a call (same origin; ws: or wss: after the page's scheme). */
export function listenUrl(callSid: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/live/calls/${encodeURIComponent(callSid)}/listen`;
}
