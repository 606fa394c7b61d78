/**
 * Process-exit guard for worker threads that run onnxruntime-node (the Silero VAD worker, the Moonshine STT workers).
 *
 * onnxruntime-node (1.30) aborts the WHOLE PROCESS ("terminate called after throwing an instance of 'Napi::Error'")
 * when a worker thread is torn down while its native `run` executes — by `worker.terminate()` or by the process
 * exiting. Such workers are therefore never terminated: each shares a control array with its host, where
 * `ctl[ORT_NATIVE]` counts its native calls in progress and `ctl[ORT_STOP]` tells it to start no more. A worker only
 * starts a call after counting itself and then seeing the stop flag clear (sequentially consistent atomics), so the
 * exit hook below, which sets every stop flag and then waits for the counts to reach 0, cannot miss one.
 */

/** Index in a control array: native calls in progress in that worker. */
export const ORT_NATIVE = 0;
/** Index in a control array: set (1) to make that worker start no more native calls. */
export const ORT_STOP = 1;

const live = new Set<Int32Array>();
let hooked = false;

/** process 'exit' hook: stop all registered workers and wait (≤ 2 s in all) until none is inside a native ort call. */
function waitForNativeCalls(): void {
  const deadline = Date.now() + 2000;
  for (const c of live) Atomics.store(c, ORT_STOP, 1);
  for (const c of live) {
    for (let n = Atomics.load(c, ORT_NATIVE); n > 0; n = Atomics.load(c, ORT_NATIVE)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(c, ORT_NATIVE, n, left);
    }
  }
}

/**
 * Registers a worker's control array (an Int32Array over a SharedArrayBuffer, at least 2 ints) until
 * {@link releaseOrtThread}; the first call installs the process 'exit' hook.
 */
export function guardOrtThread(ctl: Int32Array): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', waitForNativeCalls);
  }
  live.add(ctl);
}

/** Forgets a control array (its worker has exited). */
export function releaseOrtThread(ctl: Int32Array): void {
  live.delete(ctl);
}

/** Asks the worker behind `ctl` to start no more native calls (it exits once idle when told to close). */
export function stopOrtThread(ctl: Int32Array): void {
  Atomics.store(ctl, ORT_STOP, 1);
}
