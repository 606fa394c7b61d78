import { createFrameBatcher, type FrameScheduler } from '../../../web/src/pages/live/frame-batcher';

/** A scheduler the test runs by hand: `frame()` fires the scheduled callback (as the browser's next frame would). */
function manualFrames() {
  let cb: (() => void) | null = null;
  let scheduled = 0;
  const schedule: FrameScheduler = (f) => {
    cb = f;
    scheduled++;
    return () => {
      if (cb === f) cb = null;
    };
  };
  return {
    schedule,
    get scheduled() {
      return scheduled;
    },
    get pending() {
      return cb !== null;
    },
    frame() {
      const f = cb;
      cb = null;
      f?.();
    },
  };
}

/** The live page's per-frame batching of SSE messages (web/src/pages/live/frame-batcher.ts). */
describe('frame batcher', () => {
  it('hands the items pushed before a frame to one flush, in order, scheduling one frame per batch', () => {
    const frames = manualFrames();
    const flushed: number[][] = [];
    const b = createFrameBatcher<number>((items) => flushed.push(items), frames.schedule);
    b.push(1);
    b.push(2);
    b.push(3);
    expect(flushed).toEqual([]);
    expect(frames.scheduled).toBe(1);
    frames.frame();
    expect(flushed).toEqual([[1, 2, 3]]);
    b.push(4);
    expect(frames.scheduled).toBe(2);
    frames.frame();
    expect(flushed).toEqual([[1, 2, 3], [4]]);
    frames.frame(); // nothing pending: no empty flush
    expect(flushed).toHaveLength(2);
  });

  it('flushes at once when maxPending items wait (no frames in a background tab) and cancels the scheduled frame', () => {
    const frames = manualFrames();
    const flushed: number[][] = [];
    const b = createFrameBatcher<number>((items) => flushed.push(items), frames.schedule, 3);
    b.push(1);
    b.push(2);
    expect(flushed).toEqual([]);
    b.push(3);
    expect(flushed).toEqual([[1, 2, 3]]);
    expect(frames.pending).toBe(false);
    b.push(4);
    expect(frames.pending).toBe(true);
  });

  it('drops what is pending on cancel (the page unmounted)', () => {
    const frames = manualFrames();
    const flushed: number[][] = [];
    const b = createFrameBatcher<number>((items) => flushed.push(items), frames.schedule);
    b.push(1);
    b.cancel();
    expect(frames.pending).toBe(false);
    frames.frame();
    expect(flushed).toEqual([]);
  });
});
