// The browser test call's client is built by the webcall helper (web/src/test-call/client.ts, not merged yet).
// This declaration is its documented signature (brief, issue 12 §6) so the Test call page type-checks; delete it
// when client.ts is merged (TypeScript prefers the .ts file anyway).
import type { TurnTimings } from '../api/live';

/** A stored turn of the test call (the server's `transcript` event). */
export interface TestCallTurn {
  role: 'caller' | 'agent';
  text: string;
  language?: string | null;
  startMs?: number;
  endMs?: number;
  interrupted?: boolean;
  timings?: TurnTimings | null;
}

export interface TestCallOptions {
  agentId: string;
  onTranscript(turn: TestCallTurn): void;
  onTurnLatency(timings: TurnTimings): void;
  onEnd(reason?: string): void;
}

/** Opens the microphone and the authenticated /api/web-call WebSocket; `hangUp()` ends the call. */
export function startTestCall(o: TestCallOptions): { hangUp(): void } | Promise<{ hangUp(): void }>;
