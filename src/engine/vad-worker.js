'use strict';
/**
 * Silero VAD inference thread (worker_threads), started by vad-worker-host.ts. Plain CommonJS on purpose: Node runs
 * it as it is, without tsx or ts-jest, so it loads the same way under `tsx`, Jest and plain `node`; and ort is
 * loaded here in the worker's own (plain Node) realm, so none of the Jest realm work-arounds are needed.
 *
 * workerData: { ortPath, modelPath, inputLength, stateWidth, sampleRate, ctl } (absolute paths, resolved by the host;
 *   `ctl` a SharedArrayBuffer of two int32: [0] = native calls (model load, session.run) in progress here, [1] = stop
 *   flag set by the host).
 * Messages in:
 *   { type: 'run', id, batch, input: ArrayBuffer (float32 [batch, inputLength]), state: ArrayBuffer (float32
 *     [2, batch, stateWidth]) }  → { type: 'result', id, probabilities: Float32Array [batch], state: Float32Array
 *     [2, batch, stateWidth] } (buffers transferred) or { type: 'error', id, message }.
 *   { type: 'usage', id } → { type: 'usage', id, cpuMs } (this thread's CPU time, Linux; NaN elsewhere).
 *   { type: 'close' } → the worker exits once the calls in progress have returned.
 * Messages out, once: { type: 'ready' } when the model is loaded, or { type: 'load_error', message }.
 * Any other message is a programming error: it is thrown, which ends the worker (the host starts a new one).
 *
 * Why `ctl`: onnxruntime-node (1.30) aborts the WHOLE PROCESS ("terminate called after throwing an instance of
 * 'Napi::Error'") when a worker is terminated while its native `run` is executing — by worker.terminate() or by the
 * process exiting. So the host never calls terminate(): it asks the worker to exit (message 'close'), and at process
 * exit it sets the stop flag and waits (Atomics.wait) until no native call is in progress. A call only starts after
 * counting itself in ctl[0] and then seeing the stop flag clear (sequentially consistent atomics), so the host's wait
 * cannot miss one.
  */
const { parentPort, workerData } = require('worker_threads');
const { readFileSync } = require('fs');

const { ortPath, modelPath, inputLength, stateWidth, sampleRate } = workerData;
const ctl = new Int32Array(workerData.ctl || new SharedArrayBuffer(8)); // (no ctl: nobody waits on it)
const ort = require(ortPath);
const { nativeCalls } = require('../providers/ort-native-call');

/** Runs a native ort call counted in ctl, unless the host has asked to stop (see ort-native-call.js). */
const native = nativeCalls(ctl, 'VAD worker');

let inProgress = 0;
let closing = false;
function exitIfIdle() {
  if (closing && inProgress === 0) process.exit(0);
}

/** CPU ms of this thread: utime + stime (fields 14, 15, in 10 ms ticks) of /proc/thread-self/stat. */
function threadCpuMs() {
  if (process.platform !== 'linux') return NaN;
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(sampleRate)]), []);
inProgress++;
const sessionP = native(() =>
  ort.InferenceSession.create(modelPath, {
    // One intra-op thread: this worker IS the inference thread; more threads only add spinning for a model this small.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }),
);
sessionP.finally(() => {
  inProgress--;
  exitIfIdle();
}).catch(() => undefined);
sessionP.then(
  () => parentPort.postMessage({ type: 'ready' }),
  (err) => parentPort.postMessage({ type: 'load_error', message: String((err && err.message) || err) }),
);

async function run(msg) {
  const session = await sessionP;
  const { id, batch } = msg;
  const input = new Float32Array(msg.input);
  const state = new Float32Array(msg.state);
  if (input.length !== batch * inputLength || state.length !== 2 * batch * stateWidth) {
    throw new Error(`VAD worker: input ${input.length} / state ${state.length} floats do not fit batch ${batch}`);
  }
  const out = await native(() =>
    session.run({
      input: new ort.Tensor('float32', input, [batch, inputLength]),
      state: new ort.Tensor('float32', state, [2, batch, stateWidth]),
      sr,
    }),
  );
  // Copies with their own exact-size buffers, so they can be transferred (ort may own or share the originals).
  const probabilities = out.output.data.slice();
  const next = out.stateN.data.slice();
  if (probabilities.length !== batch || next.length !== 2 * batch * stateWidth) {
    throw new Error(`Silero VAD: unexpected output sizes ${probabilities.length} / ${next.length} for batch ${batch}`);
  }
  parentPort.postMessage({ type: 'result', id, probabilities, state: next }, [probabilities.buffer, next.buffer]);
}

parentPort.on('message', (msg) => {
  if (msg && msg.type === 'run') {
    inProgress++;
    run(msg)
      .catch((err) => parentPort.postMessage({ type: 'error', id: msg.id, message: String((err && err.message) || err) }))
      .finally(() => {
        inProgress--;
        exitIfIdle();
      });
  } else if (msg && msg.type === 'close') {
    closing = true;
    exitIfIdle();
  } else if (msg && msg.type === 'usage') {
    parentPort.postMessage({ type: 'usage', id: msg.id, cpuMs: threadCpuMs() });
  } else {
    throw new Error(`VAD worker: unknown message ${JSON.stringify(msg && msg.type)}`);
  }
});
