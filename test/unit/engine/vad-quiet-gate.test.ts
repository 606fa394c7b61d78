import { SILERO_8K, SileroVadStream, createSileroBatcher, QUIET_GATE_MAX_PROBABILITY } from '../../../src/engine/vad';
import type { RunBatch } from '../../../src/engine/vad-batcher';

const W = SILERO_8K.windowSamples;
const C = SILERO_8K.contextSamples;

/** A window of a sine at `dbfs` RMS (PCM16). */
function tone(dbfs: number, n: number = W): Int16Array {
  const amp = 32768 * 10 ** (dbfs / 20) * Math.SQRT2;
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / 8000)));
}

/**
 * A model call that answers, per row, the probability the test scripts for the window's RMS level (loud → speech),
 * and records every row it ran (its last sample, to tell windows apart) and the state it was given.
 */
function scriptedModel(probabilityOf: (rms: number) => number) {
  const ran: number[] = [];
  const run: RunBatch = async (input, state, batch) => {
    const probabilities = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      const row = input.subarray(b * (C + W), (b + 1) * (C + W));
      let sum = 0;
      for (let i = C; i < C + W; i++) sum += row[i] * row[i];
      const rms = Math.sqrt(sum / W);
      ran.push(Math.round(20 * Math.log10(rms + 1e-12)));
      probabilities[b] = probabilityOf(rms);
    }
    // The next state counts the windows run since the state was last zeroed.
    return { probabilities, state: state.map((v) => v + 1) };
  };
  return { run, ran };
}

const speechAbove = (dbfs: number) => (rms: number) => (20 * Math.log10(rms) > dbfs ? 0.9 : 0.02);

describe('SileroVadStream quiet-window gate', () => {
  it('skips windows under the floor while the model already hears silence: same frames, fewer model calls', async () => {
    const m = scriptedModel(speechAbove(-40));
    const s = new SileroVadStream(createSileroBatcher(m.run), { quietGateDbfs: -60 });
    // 3 quiet windows (-70 dBFS), 2 loud (-20), 2 quiet: the first quiet run is skipped (nothing ran yet: silence),
    // the loud ones run, and the quiet ones right after speech run until the model says silence (< 0.1), then skip.
    const frames = [
      ...(await s.push(tone(-70, 3 * W))),
      ...(await s.push(tone(-20, 2 * W))),
      ...(await s.push(tone(-70, 3 * W))),
    ];
    expect(frames.map((f) => f.probability)).toEqual([0, 0, 0, 0.9, 0.9, 0.02, 0.02, 0.02].map(Math.fround));
    expect(frames.map((f) => f.startMs)).toEqual([0, 32, 64, 96, 128, 160, 192, 224]);
    // Model calls: the 2 loud windows, then the first quiet one (last probability 0.9 ≥ 0.1); the next 2 are skipped.
    expect(m.ran).toEqual([-20, -20, -70]);
    expect(QUIET_GATE_MAX_PROBABILITY).toBe(0.1);
  });

  it('runs quiet windows as long as the model has not settled under 0.1 (Silero decides where speech ends)', async () => {
    const answers = [0.9, 0.6, 0.3, 0.05];
    const m = scriptedModel(() => answers.shift() ?? 1);
    const s = new SileroVadStream(createSileroBatcher(m.run), { quietGateDbfs: -60 });
    const frames = [...(await s.push(tone(-20, W))), ...(await s.push(tone(-70, 5 * W)))];
    expect(m.ran).toEqual([-20, -70, -70, -70]);
    expect(frames.map((f) => f.probability)).toEqual([0.9, 0.6, 0.3, 0.05, 0.05, 0.05].map(Math.fround));
  });

  it('never skips a window at or above the floor, nor anything when off', async () => {
    for (const [gate, level, runs] of [[-60, -55, 4], [null, -90, 4], [undefined, -90, 4], [-60, -90, 0]] as const) {
      const m = scriptedModel(() => 0.01);
      const s = new SileroVadStream(createSileroBatcher(m.run), { quietGateDbfs: gate });
      const frames = await s.push(tone(level, 4 * W));
      expect(frames).toHaveLength(4);
      expect(m.ran).toHaveLength(runs);
    }
  });

  it('a skipped window starts the recurrent state over (zero, as a fresh stream)', async () => {
    const states: number[] = [];
    const m = scriptedModel(speechAbove(-40));
    const run: RunBatch = (input, state, batch) => {
      states.push(state[0]);
      return m.run(input, state, batch);
    };
    const s = new SileroVadStream(createSileroBatcher(run), { quietGateDbfs: -60 });
    await s.push(tone(-20, W)); // state 0 → 1
    await s.push(tone(-70, W)); // after speech: runs, state 1 → 2, probability 0.02
    await s.push(tone(-70, 3 * W)); // skipped
    await s.push(tone(-20, W)); // runs from a zero state
    await s.push(tone(-20, W)); // and goes on from there
    expect(states).toEqual([0, 1, 0, 1]);
  });

  it('rejects a floor above 0 dBFS', () => {
    const m = scriptedModel(() => 0);
    expect(() => new SileroVadStream(createSileroBatcher(m.run), { quietGateDbfs: 3 })).toThrow(/quietGateDbfs must be ≤ 0 dBFS, got 3/);
  });
});
