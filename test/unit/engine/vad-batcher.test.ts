import { VadBatcher, type RunBatch } from '../../../src/engine/vad-batcher';
import { SILERO_8K, SileroVadStream, createSileroBatcher, type VadFrame } from '../../../src/engine/vad';

const L = 4; // samples per row
const W = 3; // state row width

/**
 * A stand-in model with row-independent, position-revealing arithmetic: probability = sum(row) + state[0, b, 0];
 * next state layer 0 = state layer 0 + row[0], layer 1 = state layer 1 × 2. Records every call.
 */
function fakeModel() {
  const calls: { batch: number; input: number[]; state: number[] }[] = [];
  const run: RunBatch = async (input, state, batch) => {
    calls.push({ batch, input: [...input], state: [...state] });
    const probabilities = new Float32Array(batch);
    const next = new Float32Array(2 * batch * W);
    for (let b = 0; b < batch; b++) {
      let sum = 0;
      for (let i = 0; i < L; i++) sum += input[b * L + i];
      probabilities[b] = sum + state[b * W];
      for (let i = 0; i < W; i++) {
        next[b * W + i] = state[b * W + i] + input[b * L];
        next[(batch + b) * W + i] = state[(batch + b) * W + i] * 2;
      }
    }
    return { probabilities, state: next };
  };
  return { run, calls };
}

const row = (...x: number[]) => Float32Array.from(x);
const stateOf = (l0: number[], l1: number[]) => Float32Array.from([...l0, ...l1]);

describe('VadBatcher', () => {
  it('runs the windows requested in one turn as ONE batch and gives each stream its own row and state', async () => {
    const m = fakeModel();
    const vb = new VadBatcher(m.run, { inputLength: L, stateWidth: W });
    const s1 = stateOf([1, 1, 1], [3, 3, 3]);
    const s2 = stateOf([10, 20, 30], [5, 6, 7]);
    const s3 = stateOf([0, 0, 0], [0, 0, 1]);
    const [p1, p2, p3] = await Promise.all([
      vb.infer(row(1, 2, 3, 4), s1),
      vb.infer(row(100, 0, 0, 0), s2),
      vb.infer(row(0, 0, 0, 0.5), s3),
    ]);
    expect(m.calls.map((c) => c.batch)).toEqual([3]);
    // Gathered as input [3, L] and state [2, 3, W].
    expect(m.calls[0].input).toEqual([1, 2, 3, 4, 100, 0, 0, 0, 0, 0, 0, 0.5]);
    expect(m.calls[0].state).toEqual([1, 1, 1, 10, 20, 30, 0, 0, 0, 3, 3, 3, 5, 6, 7, 0, 0, 1]);
    expect([p1, p2, p3]).toEqual([10 + 1, 100 + 10, 0.5 + 0]);
    // Scattered back in place, per stream.
    expect([...s1]).toEqual([2, 2, 2, 6, 6, 6]);
    expect([...s2]).toEqual([110, 120, 130, 10, 12, 14]);
    expect([...s3]).toEqual([0, 0, 0, 0, 0, 2]);
    expect(vb.stats()).toEqual({ runs: 1, windows: 3, maxBatchSize: 3, failedRuns: 0, failedWindows: 0 });
  });

  it('windows requested in later turns go into later batches', async () => {
    const m = fakeModel();
    const vb = new VadBatcher(m.run, { inputLength: L, stateWidth: W });
    const s = new Float32Array(2 * W);
    await vb.infer(row(1, 0, 0, 0), s);
    await vb.infer(row(1, 0, 0, 0), s);
    expect(m.calls.map((c) => c.batch)).toEqual([1, 1]);
    expect([...s]).toEqual([2, 2, 2, 0, 0, 0]);
  });

  it('splits a turn larger than maxBatch into several model calls', async () => {
    const m = fakeModel();
    const vb = new VadBatcher(m.run, { inputLength: L, stateWidth: W, maxBatch: 2 });
    const states = Array.from({ length: 5 }, () => new Float32Array(2 * W));
    const ps = await Promise.all(states.map((s, i) => vb.infer(row(i, 0, 0, 0), s)));
    expect(m.calls.map((c) => c.batch)).toEqual([2, 2, 1]);
    expect(ps).toEqual([0, 1, 2, 3, 4]);
    expect(states.map((s) => s[0])).toEqual([0, 1, 2, 3, 4]);
  });

  it('a failing model call rejects every window of that batch only; the next batch runs', async () => {
    let fail = true;
    const m = fakeModel();
    const vb = new VadBatcher(async (i, s, b) => {
      if (fail) throw new Error('boom');
      return m.run(i, s, b);
    }, { inputLength: L, stateWidth: W });
    const s = stateOf([1, 1, 1], [1, 1, 1]);
    const rs = await Promise.allSettled([vb.infer(row(1, 1, 1, 1), s), vb.infer(row(2, 2, 2, 2), new Float32Array(2 * W))]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((rs[0] as PromiseRejectedResult).reason).toEqual(new Error('boom'));
    expect([...s]).toEqual([1, 1, 1, 1, 1, 1]); // state untouched on failure
    fail = false;
    await expect(vb.infer(row(1, 1, 1, 1), s)).resolves.toBe(5);
    expect(vb.stats()).toEqual({ runs: 2, windows: 3, maxBatchSize: 2, failedRuns: 1, failedWindows: 2 });
  });

  it('a model call answering with the wrong number of rows fails that batch (windows rejected, state kept)', async () => {
    const vb = new VadBatcher(async () => ({ probabilities: new Float32Array(1), state: new Float32Array(2 * W) }), { inputLength: L, stateWidth: W });
    const s = stateOf([1, 1, 1], [1, 1, 1]);
    const rs = await Promise.allSettled([vb.infer(row(1, 1, 1, 1), s), vb.infer(row(2, 2, 2, 2), new Float32Array(2 * W))]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((rs[0] as PromiseRejectedResult).reason.message).toMatch(/returned 1 probabilities/);
    expect([...s]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(vb.stats().failedWindows).toBe(2);
  });

  it('sends no batch while one is in flight: windows that become ready meanwhile go out together when it returns', async () => {
    const m = fakeModel();
    const release: (() => void)[] = [];
    const vb = new VadBatcher(async (i, s, b) => {
      await new Promise<void>((r) => release.push(r));
      return m.run(i, s, b);
    }, { inputLength: L, stateWidth: W });
    const turn = () => new Promise((r) => setImmediate(r));
    const p1 = vb.infer(row(1, 0, 0, 0), new Float32Array(2 * W));
    await turn();
    await turn();
    const p2 = vb.infer(row(2, 0, 0, 0), new Float32Array(2 * W)); // later turns, while batch 1 runs
    await turn();
    const p3 = vb.infer(row(3, 0, 0, 0), new Float32Array(2 * W));
    await turn();
    await turn();
    expect(release).toHaveLength(1); // only the first call was made
    release[0]();
    await expect(p1).resolves.toBe(1);
    await turn();
    await turn();
    expect(release).toHaveLength(2);
    release[1]();
    await expect(Promise.all([p2, p3])).resolves.toEqual([2, 3]);
    expect(m.calls.map((c) => c.batch)).toEqual([1, 2]);
  });

  it('minIntervalMs: after a multi-window call the next starts no sooner than minIntervalMs later, windows meanwhile join it; lone windows never wait', async () => {
    jest.useFakeTimers();
    try {
      const m = fakeModel();
      const vb = new VadBatcher(m.run, { inputLength: L, stateWidth: W, minIntervalMs: 4 });
      const st = () => new Float32Array(2 * W);
      // A lone stream, window after window: no waiting.
      for (let k = 0; k < 3; k++) {
        const p = vb.infer(row(k, 0, 0, 0), st());
        await jest.advanceTimersByTimeAsync(0);
        await expect(p).resolves.toBe(k);
      }
      expect(m.calls.map((c) => c.batch)).toEqual([1, 1, 1]);
      // Several streams: the next call waits until 4 ms after the previous one started.
      const p1 = Promise.all([vb.infer(row(1, 0, 0, 0), st()), vb.infer(row(1, 1, 0, 0), st())]);
      await jest.advanceTimersByTimeAsync(0);
      await expect(p1).resolves.toEqual([1, 2]); // goes at once
      const p2 = vb.infer(row(2, 0, 0, 0), st());
      await jest.advanceTimersByTimeAsync(1);
      const p3 = vb.infer(row(3, 0, 0, 0), st());
      await jest.advanceTimersByTimeAsync(2);
      expect(m.calls).toHaveLength(4); // 3 ms after the 2-window call: still waiting
      await jest.advanceTimersByTimeAsync(1);
      expect(m.calls.map((c) => c.batch)).toEqual([1, 1, 1, 2, 2]);
      await expect(Promise.all([p2, p3])).resolves.toEqual([2, 3]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects wrong input or state sizes, and bad options', async () => {
    const vb = new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W });
    await expect(vb.infer(new Float32Array(L + 1), new Float32Array(2 * W))).rejects.toThrow(/input must have 4 samples/);
    await expect(vb.infer(new Float32Array(L), new Float32Array(W))).rejects.toThrow(/state must have 6 floats/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: 0, stateWidth: W })).toThrow(/inputLength/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W, maxBatch: 1.5 })).toThrow(/maxBatch/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W, maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W, minIntervalMs: -1 })).toThrow(/minIntervalMs/);
  });
});

/**
 * A stand-in for Silero with the real sizes (input 32 + 256, state 2 × 128), driven through the real stream and
 * batcher: probability = (state[0, b, 0]) / 1000, i.e. the number of windows this stream's state has absorbed; next
 * state = state + 1. So a window's probability tells exactly which state it was run with. Model call number `failOn`
 * (1-based) throws.
 */
function countingModel(failOn: number) {
  const calls: number[] = [];
  const W8 = SILERO_8K.stateWidth;
  const run: RunBatch = async (_input, state, batch) => {
    calls.push(batch);
    if (calls.length === failOn) throw new Error('ort: simulated failure');
    const probabilities = new Float32Array(batch);
    const next = new Float32Array(state.length);
    for (let b = 0; b < batch; b++) probabilities[b] = state[b * W8] / 1000;
    for (let i = 0; i < state.length; i++) next[i] = state[i] + 1;
    return { probabilities, state: next };
  };
  return { run, calls };
}

describe('SileroVadStream over a failing model call', () => {
  const win = (n: number) => new Int16Array(n * SILERO_8K.windowSamples).fill(1000);

  it('fails only the windows of the failed batch: failed frames keep the time line, state is kept, later windows work, failures are counted', async () => {
    const m = countingModel(2);
    const batcher = createSileroBatcher(m.run);
    const failedA: number[] = [];
    const failedB: number[] = [];
    const a = new SileroVadStream(batcher, { onFailedWindows: (n, err) => { failedA.push(n); expect((err as Error).message).toMatch(/simulated/); } });
    const b = new SileroVadStream(batcher, { onFailedWindows: (n) => failedB.push(n) });

    const first = await a.push(win(1)); // call 1: a alone
    expect(first).toEqual([{ startMs: 0, endMs: 32, probability: 0 }]);

    const [a2, b2] = await Promise.all([a.push(win(1)), b.push(win(1))]); // call 2 (fails): a and b together
    expect(m.calls).toEqual([1, 2]);
    expect(a2).toEqual([{ startMs: 32, endMs: 64, probability: NaN, failed: true }]);
    expect(b2).toEqual([{ startMs: 0, endMs: 32, probability: NaN, failed: true }]);
    expect(failedA).toEqual([1]);
    expect(failedB).toEqual([1]);

    // Later windows run, with the state from before the failed window (a has absorbed 1 window, b none).
    const [a3, b3] = await Promise.all([a.push(win(2)), b.push(win(1))]);
    const strip = (fs: VadFrame[]) => fs.map((f) => [f.startMs, f.endMs, Math.round(f.probability * 1000), f.failed ?? false]);
    expect(strip(a3)).toEqual([[64, 96, 1, false], [96, 128, 2, false]]);
    expect(strip(b3)).toEqual([[32, 64, 0, false]]);
    expect(failedA).toEqual([1]);
    expect(batcher.stats()).toMatchObject({ runs: 4, windows: 6, failedRuns: 1, failedWindows: 2 });
  });

  it('a failure inside a multi-window push fails that window only; the push still returns all its windows', async () => {
    const m = countingModel(2);
    const failed: number[] = [];
    const s = new SileroVadStream(createSileroBatcher(m.run), { onFailedWindows: (n) => failed.push(n) });
    const frames = await s.push(win(3)); // windows run one per call: the 2nd fails
    expect(frames.map((f) => [f.startMs, f.failed ?? false, Math.round(f.probability * 1000)])).toEqual([[0, false, 0], [32, true, NaN], [64, false, 1]]);
    expect(failed).toEqual([1]);
    expect(await s.flush()).toEqual([]); // nothing left over: the failed window's audio was consumed
  });
});
