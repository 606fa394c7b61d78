/** Schedules a callback for the next frame; returns its cancel function. */
export type FrameScheduler = (cb: () => void) => () => void;

/** The browser's frame API (typed here: the unit tests compile this file without the DOM library). */
type FrameApi = { requestAnimationFrame(cb: () => void): number; cancelAnimationFrame(id: number): void };

/** `requestAnimationFrame` as a {@link FrameScheduler}. */
export const animationFrame: FrameScheduler = (cb) => {
  const w = globalThis as unknown as FrameApi;
  const id = w.requestAnimationFrame(cb);
  return () => w.cancelAnimationFrame(id);
};

/** Pending items that force a flush without waiting for the frame (a hidden tab gets no frames). */
export const MAX_PENDING = 500;

/**
 * Collects items (e.g. SSE messages) and hands them to `flush` together, at most once per frame: the first `push`
 * after a flush schedules one, and `maxPending` items flush at once (rAF does not run in a background tab, so the
 * queue never grows without bound). `cancel()` drops what is pending (the component unmounted).
 */
export function createFrameBatcher<T>(flush: (items: T[]) => void, schedule: FrameScheduler = animationFrame, maxPending = MAX_PENDING): { push(item: T): void; cancel(): void } {
  let pending: T[] = [];
  let cancelFrame: (() => void) | null = null;
  const run = () => {
    cancelFrame?.();
    cancelFrame = null;
    const items = pending;
    pending = [];
    if (items.length) flush(items);
  };
  return {
    push(item) {
      pending.push(item);
      if (pending.length >= maxPending) run();
      else cancelFrame ??= schedule(run);
    },
    cancel() {
      cancelFrame?.();
      cancelFrame = null;
      pending = [];
    },
  };
}
