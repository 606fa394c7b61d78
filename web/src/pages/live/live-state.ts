import type { LiveCallSnapshot, LiveEvent, LiveTurn } from '../../api/live-types';

/** Turns kept per call on the page (the server's snapshot holds the last 50 too). */
export const MAX_TURNS = 50;

/** Live calls by callSid, in start order. */
export type LiveCalls = ReadonlyMap<string, LiveCallSnapshot>;

/** Adds turns by `seq` (each applied once, kept in order, the last {@link MAX_TURNS}). */
export function mergeTurns(have: LiveTurn[], add: LiveTurn[]): LiveTurn[] {
  const bySeq = new Map(have.map((t) => [t.seq, t]));
  for (const t of add) bySeq.set(t.seq, t);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_TURNS);
}

/**
 * Applies SSE events in order: `call.started` adds the call (kept if already known), `call.turn` merges the turn,
 * `call.ended` removes the call; `call.event` changes nothing here. A turn of an unknown call is dropped (the
 * snapshot loaded after the stream opened brings it). The map is copied once per batch; calls the batch does not
 * touch keep their object (a memoized card does not re-render); when nothing changes `calls` itself is returned.
 */
export function applyLiveEvents(calls: LiveCalls, events: readonly LiveEvent[]): LiveCalls {
  let next: Map<string, LiveCallSnapshot> | null = null;
  const draft = () => (next ??= new Map(calls));
  for (const e of events) {
    const cur = next ?? calls;
    switch (e.type) {
      case 'call.started':
        if (!cur.has(e.call.callSid)) draft().set(e.call.callSid, { ...e.call, turns: [] });
        break;
      case 'call.turn': {
        const c = cur.get(e.callSid);
        if (c) draft().set(e.callSid, { ...c, turns: mergeTurns(c.turns, [e.turn]) });
        break;
      }
      case 'call.ended':
        if (cur.has(e.callSid)) draft().delete(e.callSid);
        break;
      default:
        break;
    }
  }
  return next ?? calls;
}

/** {@link applyLiveEvents} for one event. */
export function applyLiveEvent(calls: LiveCalls, e: LiveEvent): LiveCalls {
  return applyLiveEvents(calls, [e]);
}

/**
 * Merges a snapshot (`GET /api/live/calls`) into what the stream already delivered: the snapshot's calls are added
 * with their turns merged by seq; calls the stream saw end meanwhile (`ended`) stay out.
 */
export function applySnapshot(calls: LiveCalls, snapshot: LiveCallSnapshot[], ended: ReadonlySet<string>): LiveCalls {
  const next = new Map(calls);
  for (const s of snapshot) {
    if (ended.has(s.callSid)) continue;
    const have = next.get(s.callSid);
    next.set(s.callSid, { ...s, turns: mergeTurns(have?.turns ?? [], s.turns) });
  }
  return next;
}
