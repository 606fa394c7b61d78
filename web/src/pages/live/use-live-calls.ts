import { useEffect, useState } from 'react';
import { fetchLiveCalls, LIVE_EVENT_TYPES, LIVE_EVENTS_PATH, type LiveEvent } from '../../api/live';
import { createFrameBatcher } from './frame-batcher';
import { applyLiveEvents, applySnapshot, type LiveCalls } from './live-state';

/** Connection state of the live feed shown on the page. */
export type FeedStatus = 'connecting' | 'live' | 'reconnecting';

/**
 * The live calls, kept current: opens the SSE stream (`GET /api/live/events`) first, then loads the snapshot
 * (`GET /api/live/calls`) and merges it — the protocol the live API documents (no replay). On a reconnect
 * (EventSource retries by itself) the snapshot is loaded again. Returns the calls, the feed status and the last
 * snapshot error. Stream messages are applied together once per animation frame (at 250 calls ~100 messages/s
 * arrive: one state update, one render each would keep the main thread busy).
 */
export function useLiveCalls(): { calls: LiveCalls; status: FeedStatus; error: Error | null } {
  const [calls, setCalls] = useState<LiveCalls>(new Map());
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    const ended = new Set<string>();
    const es = new EventSource(LIVE_EVENTS_PATH, { withCredentials: true });
    let closed = false;
    const batch = createFrameBatcher<LiveEvent>((events) => setCalls((c) => applyLiveEvents(c, events)));
    const onEvent = (m: MessageEvent<string>) => {
      const e = JSON.parse(m.data) as LiveEvent;
      if (e.type === 'call.ended') ended.add(e.callSid);
      batch.push(e);
    };
    for (const t of LIVE_EVENT_TYPES) es.addEventListener(t, onEvent as EventListener);
    es.onopen = () => {
      setStatus('live');
      fetchLiveCalls().then(
        (snap) => {
          if (closed) return;
          setError(null);
          setCalls((c) => applySnapshot(c, snap, ended));
        },
        (err: Error) => !closed && setError(err),
      );
    };
    es.onerror = () => setStatus('reconnecting');
    return () => {
      closed = true;
      batch.cancel();
      es.close();
    };
  }, []);
  return { calls, status, error };
}
