import { callFields, type CallCursor, type CallFields, type CallRow } from '../db/calls';

/**
 * Shapes of the REST API's call resources and its opaque list cursors (the repository works with rows and keyset
 * positions; what the API shows is decided here).
 */

/** Encodes a list position as an opaque URL-safe token. */
export function encodeCallCursor(c: CallCursor): string {
  return Buffer.from(`${c.startedAt}|${c.callSid}`, 'utf8').toString('base64url');
}

/** Decodes {@link encodeCallCursor}'s token. @returns null when the token is malformed. */
export function decodeCallCursor(token: string): CallCursor | null {
  const [startedAt, callSid, extra] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !callSid || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(startedAt ?? '')) return null;
  return { startedAt, callSid };
}

/** One row of `GET /api/calls`: the call without its turns, with its agent; timestamps as ISO 8601 strings. */
export interface CallSummary extends CallFields {
  agentId: string;
}

/** Maps a call row to its API summary. */
export function callSummary(c: CallRow): CallSummary {
  return { ...callFields(c), agentId: c.agentId };
}
