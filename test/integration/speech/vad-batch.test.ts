import { SileroVad, type VadFrame, type VadStream } from '../../../src/engine/vad';
import { RECORDINGS, phoneAudio } from './fixtures';

/**
 * Cross-call batching of the real Silero model on real speech: windows of many streams run as one model call must
 * give each stream exactly what it gets alone (batch of one), and streams must not leak into each other.
 */

const TOL = 1e-4;
const WINDOW = 256; // 32 ms at 8 kHz
const CONTEXT = 32;

/**
 * Reference probabilities, independent of VadStream: silero-vad's OnnxWrapper loop (32-sample context + 256-sample
 * window, zero-padded last window) with one model call per window, awaited one by one (so every call is a batch of 1).
 */
async function reference(vad: SileroVad, x: Int16Array): Promise<number[]> {
  const padded = new Float32Array(CONTEXT + Math.ceil(x.length / WINDOW) * WINDOW);
  for (let i = 0; i < x.length; i++) padded[CONTEXT + i] = x[i] / 32768;
  let state: Float32Array = new Float32Array(256);
  const out: number[] = [];
  for (let off = 0; off + CONTEXT + WINDOW <= padded.length; off += WINDOW) {
    const r = await vad.infer(padded.subarray(off, off + CONTEXT + WINDOW), state);
    out.push(r.probability);
    state = r.state;
  }
  return out;
}

/** Feeds all streams at once, `chunk[i]` samples per push, every push of a round started in the same turn. */
async function feedTogether(streams: VadStream[], signals: Int16Array[], chunks: number[]): Promise<number[][]> {
  const out: VadFrame[][] = streams.map(() => []);
  const pos = streams.map(() => 0);
  while (pos.some((p, i) => p < signals[i].length)) {
    await Promise.all(
      streams.map(async (s, i) => {
        if (pos[i] >= signals[i].length) return;
        const part = signals[i].subarray(pos[i], pos[i] + chunks[i]);
        pos[i] += chunks[i];
        out[i].push(...(await s.push(part)));
      }),
    );
  }
  await Promise.all(streams.map(async (s, i) => out[i].push(...(await s.flush()))));
  out.forEach((frames) => frames.forEach((f, k) => {
    expect(f.startMs).toBe(k * 32);
    expect(f.endMs).toBe((k + 1) * 32);
  }));
  return out.map((frames) => frames.map((f) => f.probability));
}

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

function noise(n: number, seed: number, amp: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; x[i] = (seed % (2 * amp)) - amp; }
  return x;
}

describe('Silero VAD cross-call batching (real model, real speech)', () => {
  let vad: SileroVad;
  beforeAll(async () => {
    vad = await SileroVad.load();
  });

  it('the reference loop really runs one window per model call', async () => {
    const before = vad.batchStats();
    const p = await reference(vad, phoneAudio(RECORDINGS[0]).samples.subarray(0, 8000));
    const after = vad.batchStats();
    expect(p).toHaveLength(Math.ceil(8000 / WINDOW));
    expect(after.runs - before.runs).toBe(p.length);
    expect(after.windows - before.windows).toBe(p.length);
  });

  it('streams fed together (different audio, phases and chunk sizes) get their unbatched probabilities', async () => {
    const speech = RECORDINGS.map((n) => phoneAudio(n).samples);
    const signals = [
      ...speech,
      speech[0].subarray(800), // the same recording 100 ms later: windows complete on other pushes
      new Int16Array(speech[1].length), // digital silence next to speech
      noise(speech[2].length, 7, 3000),
    ];
    const chunks = [160, 160, 160, 160, 97, 4096];
    const refs: number[][] = [];
    for (const x of signals) refs.push(await reference(vad, x));

    const before = vad.batchStats();
    const got = await feedTogether(signals.map(() => vad.createStream()), signals, chunks);
    const after = vad.batchStats();
    const runs = after.runs - before.runs;
    const windows = after.windows - before.windows;
    expect(windows).toBe(refs.reduce((a, r) => a + r.length, 0));
    expect(runs).toBeLessThan(windows / 2); // batching happened
    expect(after.maxBatchSize).toBeGreaterThanOrEqual(4);

    const diffs = got.map((g, i) => {
      expect(g).toHaveLength(refs[i].length);
      return maxAbsDiff(g, refs[i]);
    });
    // eslint-disable-next-line no-console
    console.log(`batched vs unbatched: ${windows} windows in ${runs} model calls, max |Δp| per stream ${diffs.map((d) => d.toExponential(1)).join(' ')}`);
    diffs.forEach((d) => expect(d).toBeLessThanOrEqual(TOL));
    // The streams really differ (so equality is not trivially shared output): speech vs silence.
    expect(Math.max(...got[0])).toBeGreaterThan(0.9);
    expect(Math.max(...got[4])).toBeLessThan(0.1);
  });

  it('200 streams batched together match their unbatched probabilities', async () => {
    const all = RECORDINGS.map((n) => phoneAudio(n).samples);
    const n = 200;
    const len = 2 * 8000;
    // Each stream: 2 s of one recording from its own offset.
    const signals = Array.from({ length: n }, (_, i) => {
      const x = all[i % all.length];
      const start = Math.floor(((i * 7919) % 97) / 97 * (x.length - len));
      return x.subarray(start, start + len);
    });
    const before = vad.batchStats();
    const got = await feedTogether(signals.map(() => vad.createStream()), signals, signals.map(() => 160));
    const after = vad.batchStats();
    expect(after.maxBatchSize).toBeGreaterThanOrEqual(n);
    expect((after.windows - before.windows) / (after.runs - before.runs)).toBeGreaterThanOrEqual(n * 0.9);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = await reference(vad, signals[i]);
      expect(got[i]).toHaveLength(ref.length);
      worst = Math.max(worst, maxAbsDiff(got[i], ref));
    }
    // eslint-disable-next-line no-console
    console.log(`200 streams: max |Δp| batched vs unbatched ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  it('reset() while a window is in flight drops it; the stream then matches a fresh one', async () => {
    const x = phoneAudio(RECORDINGS[1]).samples;
    const s = vad.createStream();
    const other = vad.createStream();
    const inFlight = s.push(x.subarray(0, 4096)); // 16 windows: the first is in flight now
    const neighbour = other.push(x.subarray(0, 4096));
    s.reset();
    expect(await inFlight).toEqual([]);
    const after: VadFrame[] = [];
    for (let i = 0; i < 16000; i += 160) after.push(...(await s.push(x.subarray(8000 + i, 8000 + i + 160))));
    const fresh = await reference(vad, x.subarray(8000, 24000));
    expect(after[0].startMs).toBe(0);
    expect(after).toHaveLength(Math.floor(16000 / WINDOW));
    expect(maxAbsDiff(after.map((f) => f.probability), fresh)).toBeLessThanOrEqual(TOL);
    // The neighbour that shared those batches is unaffected.
    expect(maxAbsDiff((await neighbour).map((f) => f.probability), (await reference(vad, x.subarray(0, 4096))))).toBeLessThanOrEqual(TOL);
  });

  it('close() while a window is in flight ends that push; later pushes throw', async () => {
    const s = vad.createStream();
    const p = s.push(phoneAudio(RECORDINGS[2]).samples.subarray(0, 2048));
    s.close();
    expect(await p).toEqual([]);
    await expect(s.push(new Int16Array(160))).rejects.toThrow(/after close/);
  });
});
