/**
 * Cross-call batching for a recurrent VAD model (Silero v5): every stream that has a window ready in the same
 * event-loop turn is run through ONE model call with input [batch, inputLength] and state [2, batch, stateWidth],
 * instead of one call per stream. Rows of a batch are independent in the model (silero-vad's own `OnnxWrapper`
 * runs batches the same way), so each stream gets exactly the result of an unbatched call.
 *
 * Scheduling: the first request of a turn schedules a flush with `setImmediate`, which runs after the poll phase, so
 * all the audio frames read from sockets in that turn share one batch; a flush runs at most `maxBatch` rows per model
 * call (bounding how long one call takes) and schedules the rest as a further flush. At most `maxInFlight` model calls
 * are outstanding (the model runs in a worker thread, see vad-worker-host.ts): windows that become ready while the
 * model is busy wait and go together into the next batch once a call returns, so batches grow with load instead of
 * queueing many small calls.
 *
 * Failures: a failed model call rejects the windows of that batch only (their state arrays are left as they were);
 * later batches run as usual. Failed calls and windows are counted in {@link VadBatchStats}.
 */

/**
 * One model call over `batch` rows. The batcher allocates fresh, exact-size `input` and `state` arrays for each call
 * and never touches them again, so the callee may keep or transfer their buffers (postMessage transfer list).
 * Rejects (any error) when the call fails: every row of the batch fails.
 */
export type RunBatch = (
  /** float32 [batch, inputLength], row-major. */
  input: Float32Array,
  /** float32 [2, batch, stateWidth]. */
  state: Float32Array,
  batch: number,
) => Promise<{ /** [batch] speech probabilities. */ probabilities: Float32Array; /** [2, batch, stateWidth]. */ state: Float32Array }>;

export interface VadBatcherOptions {
  /** Samples per row (context + window). */
  inputLength: number;
  /** Width of one state row (Silero v5: 128). The per-stream state is 2 × stateWidth floats. */
  stateWidth: number;
  /** Most rows per model call. Default 256. */
  maxBatch?: number;
  /** Most model calls outstanding at once. Default 1 (one inference thread). */
  maxInFlight?: number;
  /**
   * Least time (ms) from the start of one model call to the start of the next, applied only while batches carry
   * several windows (the previous call had ≥ 2 rows, i.e. several streams are active), so a lone stream is never
   * delayed. Default 0 (next event-loop turn). A model call has a large fixed cost (Silero in the worker: ≈ 0.25 ms
   * per call vs ≈ 0.03–0.04 ms per window), so a few ms of coalescing makes batches bigger and total CPU lower, at
   * the price of up to that much VAD latency.
   */
  minIntervalMs?: number;
  /** Constructor for the batched buffers (the model runtime may need its own realm's Float32Array). */
  float32Array?: Float32ArrayConstructor;
}

/** Cumulative counters since the batcher was created. */
export interface VadBatchStats {
  /** Model calls made. */
  runs: number;
  /** Windows (rows) run. */
  windows: number;
  /** Largest batch so far. */
  maxBatchSize: number;
  /** Model calls that failed (rejected), and the windows (rows) they carried. Included in runs / windows. */
  failedRuns: number;
  failedWindows: number;
}

interface Request {
  input: Float32Array;
  state: Float32Array;
  resolve: (p: number) => void;
  reject: (e: unknown) => void;
}

/** Collects single-window requests from many streams and runs them in batches through {@link RunBatch}. */
export class VadBatcher {
  private queue: Request[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** performance.now() when the last model call started. */
  private lastStartMs = -Infinity;
  private lastBatchSize = 0;
  private readonly minIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly F32: Float32ArrayConstructor;
  private readonly counters: VadBatchStats = { runs: 0, windows: 0, maxBatchSize: 0, failedRuns: 0, failedWindows: 0 };

  /** @throws Error when a size option is not a positive integer. */
  constructor(private readonly runBatch: RunBatch, private readonly o: VadBatcherOptions) {
    this.maxBatch = o.maxBatch ?? 256;
    this.maxInFlight = o.maxInFlight ?? 1;
    this.minIntervalMs = o.minIntervalMs ?? 0;
    if (!(this.minIntervalMs >= 0 && Number.isFinite(this.minIntervalMs))) throw new Error(`VadBatcher: minIntervalMs must be a non-negative number, got ${this.minIntervalMs}`);
    for (const [k, v] of [['inputLength', o.inputLength], ['stateWidth', o.stateWidth], ['maxBatch', this.maxBatch], ['maxInFlight', this.maxInFlight]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`VadBatcher: ${k} must be a positive integer, got ${v}`);
    }
    this.F32 = o.float32Array ?? Float32Array;
  }

  /**
   * Queues one window for the next batch.
   * @param input `inputLength` samples (context + window); read when the batch runs, so keep it unchanged until the
   *   promise settles.
   * @param state 2 × stateWidth floats ([2, 1, stateWidth]); read when the batch runs and overwritten IN PLACE with the
   *   next state before the promise resolves.
   * @returns the window's speech probability (0..1).
   * @throws (rejects) Error when the sizes are wrong, or with the model call's error (every row of that batch).
   */
  infer(input: Float32Array, state: Float32Array): Promise<number> {
    if (input.length !== this.o.inputLength) return Promise.reject(new Error(`VadBatcher: input must have ${this.o.inputLength} samples, got ${input.length}`));
    if (state.length !== 2 * this.o.stateWidth) return Promise.reject(new Error(`VadBatcher: state must have ${2 * this.o.stateWidth} floats, got ${state.length}`));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ input, state, resolve, reject });
      this.schedule();
    });
  }

  /** Counters for benchmarks and diagnostics. */
  stats(): VadBatchStats {
    return { ...this.counters };
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    const fire = () => {
      this.scheduled = false;
      if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.lastStartMs = performance.now();
      this.lastBatchSize = batch.length;
      void this.run(batch).finally(() => {
        this.inFlight--;
        // Windows queued while this call ran (including the next windows of the streams it just answered, queued
        // from their promise continuations before this immediate fires) go out together.
        if (this.queue.length > 0) this.schedule();
      });
      if (this.queue.length > 0) this.schedule();
    };
    const waitMs = this.lastBatchSize >= 2 ? this.lastStartMs + this.minIntervalMs - performance.now() : 0;
    if (waitMs > 0) setTimeout(fire, waitMs);
    else setImmediate(fire);
  }

  private async run(batch: Request[]): Promise<void> {
    const B = batch.length;
    const { inputLength: L, stateWidth: W } = this.o;
    const input = new this.F32(B * L);
    const state = new this.F32(2 * B * W);
    for (let b = 0; b < B; b++) {
      const r = batch[b];
      input.set(r.input, b * L);
      state.set(r.state.subarray(0, W), b * W); // layer 0 → [0, b, :]
      state.set(r.state.subarray(W, 2 * W), (B + b) * W); // layer 1 → [1, b, :]
    }
    this.counters.runs++;
    this.counters.windows += B;
    this.counters.maxBatchSize = Math.max(this.counters.maxBatchSize, B);
    let out: Awaited<ReturnType<RunBatch>>;
    try {
      out = await this.runBatch(input, state, B);
      if (out.probabilities.length !== B || out.state.length !== 2 * B * W) {
        throw new Error(`VadBatcher: model returned ${out.probabilities.length} probabilities / ${out.state.length} state floats for batch ${B}`);
      }
    } catch (err) {
      this.counters.failedRuns++;
      this.counters.failedWindows += B;
      for (const r of batch) r.reject(err);
      return;
    }
    for (let b = 0; b < B; b++) {
      const r = batch[b];
      r.state.set(out.state.subarray(b * W, (b + 1) * W), 0);
      r.state.set(out.state.subarray((B + b) * W, (B + b + 1) * W), W);
      r.resolve(out.probabilities[b]);
    }
  }
}
