'use strict';
/**
 * Worker-side half of src/providers/ort-thread-guard.ts, for the plain-CommonJS onnxruntime worker threads
 * (src/engine/vad-worker.js, src/providers/stt/moonshine-worker.js).
 *
 * `nativeCalls(ctl, name)` returns `native(fn)`: it runs `fn` (which starts a native ort call and returns its promise)
 * counted in ctl[0], unless the host set the stop flag ctl[1] (the process is exiting), in which case it throws
 * `<name>: stopping`. The count is taken before the flag is read (sequentially consistent atomics), so the host's
 * exit hook, which sets the flag and then waits for the count to reach 0, cannot miss a call. Indices match
 * ORT_NATIVE / ORT_STOP of ort-thread-guard.ts.
 */
const NATIVE = 0;
const STOP = 1;

function nativeCalls(ctl, name) {
  return async function native(fn) {
    Atomics.add(ctl, NATIVE, 1);
    try {
      if (Atomics.load(ctl, STOP)) throw new Error(`${name}: stopping`);
      return await fn();
    } finally {
      Atomics.sub(ctl, NATIVE, 1);
      Atomics.notify(ctl, NATIVE);
    }
  };
}

module.exports = { nativeCalls };
