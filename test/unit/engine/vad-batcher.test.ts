import { VadBatcher, type RunBatch } from '../../../src/engine/vad-batcher';

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
    expect(vb.stats()).toEqual({ runs: 1, windows: 3, maxBatchSize: 3 });
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
  });

  it('rejects wrong input or state sizes, and bad options', async () => {
    const vb = new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W });
    await expect(vb.infer(new Float32Array(L + 1), new Float32Array(2 * W))).rejects.toThrow(/input must have 4 samples/);
    await expect(vb.infer(new Float32Array(L), new Float32Array(W))).rejects.toThrow(/state must have 6 floats/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: 0, stateWidth: W })).toThrow(/inputLength/);
    expect(() => new VadBatcher(fakeModel().run, { inputLength: L, stateWidth: W, maxBatch: 1.5 })).toThrow(/maxBatch/);
  });
});
