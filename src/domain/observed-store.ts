import type { TurnRow } from './calls';
import type { CallStore } from './ports';

/** Observers of a {@link CallStore}'s successful writes (each must return at once). */
export interface StoreObservers {
  /** A turn was stored, with its `seq`. */
  onTurn?(callSid: string, turn: TurnRow): void;
  /** A call event was stored. */
  onEvent?(callSid: string, type: string, payload: Record<string, unknown> | undefined): void;
  /** An observer threw: the write's result stands, the error is only reported here. */
  onError(err: unknown): void;
}

/**
 * `inner` with each successful `addTurn` / `addEvent` also reported to the observers (the live feed, a browser
 * test call's transcript). Every write's result and errors are `inner`'s: an observer runs only after the write
 * succeeded and can neither delay nor fail it. The other methods pass straight through.
 */
export function observedStore(inner: CallStore, o: StoreObservers): CallStore {
  const report = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      o.onError(err);
    }
  };
  return {
    addTurn: async (callSid, t) => {
      const seq = await inner.addTurn(callSid, t);
      if (o.onTurn) report(() => o.onTurn!(callSid, { ...t, seq }));
      return seq;
    },
    addEvent: async (callSid, type, payload) => {
      await inner.addEvent(callSid, type, payload);
      if (o.onEvent) report(() => o.onEvent!(callSid, type, payload));
    },
    finish: (callSid, f) => inner.finish(callSid, f),
    setTransfer: (callSid, t) => inner.setTransfer(callSid, t),
    setEndReason: (callSid, r) => inner.setEndReason(callSid, r),
    addUsage: (callSid, records) => inner.addUsage(callSid, records),
  };
}
