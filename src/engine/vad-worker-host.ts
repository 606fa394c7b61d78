import { join } from 'path';
import { Worker } from 'worker_threads';
import type { EventLoopUtilization } from 'perf_hooks';
import type { RunBatch } from './vad-batcher';
import { guardOrtThread, releaseOrtThread, stopOrtThread } from '../providers/ort-thread-guard';

/**
 * Owns the worker thread that runs Silero VAD inference (src/engine/vad-worker.js), so that onnxruntime's synchronous
 * `session.run` never blocks the main event loop. {@link VadWorkerHost.run} is a {@link RunBatch}: one message per
 * batch, with the input and state buffers transferred (not copied); the worker answers with the probabilities and next
 * states (also transferred).
 *
 * Why a plain .js worker file: Node runs it without any loader, so the same file works under `tsx` (npm run dev), under
 * Jest (ts-jest transforms only what Jest itself requires; a Worker is loaded by Node, outside Jest's registry) and
 * under plain `node` (npm start: scripts/build.mjs copies it beside the compiled host in dist/); `execArgv: []` keeps
 * tsx's hooks out of the worker. An `eval: true` string would also work but cannot be syntax-checked or read as code.
 *
 * Lifecycle:
 * - The worker is unref'd while idle, and ref'd only while a batch (or the model load) is outstanding, so it never
 *   keeps a process alive by itself, yet an awaited inference is not cut short by the process exiting.
 * - The worker is never `terminate()`d: onnxruntime-node 1.30 aborts the whole process when a worker is torn down
 *   while its native `run` executes (seen here: "terminate called after throwing an instance of 'Napi::Error'"). It
 *   is asked to exit (it does so once its native calls return), and a process 'exit' hook sets each worker's stop
 *   flag and waits (Atomics.wait, at most 2 s) until no native call is in progress, so `process.exit()` during a
 *   batch is safe too (src/providers/ort-thread-guard.ts, vad-worker.js).
 * - Crash isolation: if the worker exits, throws, fails to reload the model, or does not answer a batch within
 *   `batchTimeoutMs` (hung), the batches it holds reject (their windows fail) and the worker is dropped (a hung one
 *   is told to stop and exit when it can); the next batch starts a new worker. Starts happen only when a batch needs
 *   one, so a persistent failure cannot spin.
 * - {@link VadWorkerHost.close} makes the worker exit; later batches reject.
 */

export interface VadWorkerHostOptions {
  /** Absolute path of the ONNX model. */
  modelPath: string;
  /** Absolute path of onnxruntime-node's entry point (`require.resolve('onnxruntime-node')`). */
  ortPath: string;
  /** Floats per input row (context + window) and per state row. */
  inputLength: number;
  stateWidth: number;
  /** Model sample rate (Hz), fed as the `sr` input. */
  sampleRate: number;
  /** A batch not answered within this time (ms) is taken as a hung worker: it is ended and replaced. Default 10000. */
  batchTimeoutMs?: number;
  /** Worker script. Default: vad-worker.js beside this file. */
  workerPath?: string;
}

/** Worker lifecycle counters. */
export interface VadWorkerStats {
  /** Workers started (the first included). */
  starts: number;
  /** Workers lost without close(): exits, uncaught errors, hangs, failed model reloads. */
  deaths: number;
}

interface Pending {
  worker: Worker;
  resolve: (m: WorkerReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type WorkerReply =
  | { type: 'result'; id: number; probabilities: Float32Array; state: Float32Array }
  | { type: 'error'; id: number; message: string }
  | { type: 'usage'; id: number; cpuMs: number }
  | { type: 'ready' }
  | { type: 'load_error'; message: string };

/** Exact-size buffer of a typed array (a copy only when the array is a view into a larger buffer). */
function ownBuffer(a: Float32Array): ArrayBuffer {
  const b = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a.buffer : a.slice().buffer;
  return b as ArrayBuffer;
}

/** One Silero inference worker thread at a time, replaced when it dies (see the module doc above). */
export class VadWorkerHost {
  private worker: Worker | null = null;
  private readonly ctl = new WeakMap<Worker, Int32Array>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly counters: VadWorkerStats = { starts: 0, deaths: 0 };
  private readonly timeoutMs: number;
  private readonly workerPath: string;
  /** Set by start() until the first worker reports ready (or dies). */
  private startWait: { resolve: () => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly o: VadWorkerHostOptions) {
    this.timeoutMs = o.batchTimeoutMs ?? 10_000;
    this.workerPath = o.workerPath ?? join(__dirname, 'vad-worker.js');
  }

  /**
   * Starts the worker and waits until it has loaded the model.
   * @throws Error when the worker cannot start or the model / onnxruntime cannot be loaded (the worker is ended).
   */
  static async start(o: VadWorkerHostOptions): Promise<VadWorkerHost> {
    const host = new VadWorkerHost(o);
    const w = host.spawn();
    w.ref(); // keep the process up while the model loads
    try {
      const loadMs = 3 * host.timeoutMs;
      const timer = setTimeout(() => host.onDead(w, new Error(`VAD worker: model not loaded within ${loadMs} ms`)), loadMs);
      timer.unref();
      await new Promise<void>((resolve, reject) => {
        host.startWait = { resolve, reject };
      }).finally(() => clearTimeout(timer));
    } catch (err) {
      await host.close();
      throw err;
    } finally {
      host.startWait = null;
      if (host.pending.size === 0) w.unref();
    }
    return host;
  }

  /** {@link RunBatch} through the worker. Rejects when the model call fails, the worker dies or hangs, or after close(). */
  readonly run: RunBatch = async (input, state, batch) => {
    if (this.closed) throw new Error('Silero VAD: closed');
    const w = this.worker ?? this.spawn();
    const inBuf = ownBuffer(input);
    const stBuf = ownBuffer(state);
    const reply = await this.request(w, (id) => ({ type: 'run', id, batch, input: inBuf, state: stBuf }), [inBuf, stBuf]);
    if (reply.type !== 'result') throw new Error('VAD worker: unexpected reply');
    return { probabilities: reply.probabilities, state: reply.state };
  };

  /**
   * The current worker's own thread CPU time (ms since it started; Linux /proc, NaN elsewhere) and its event-loop
   * utilization (cumulative; diff two readings with performance.eventLoopUtilization(a, b)). Null when no worker runs.
   */
  async workerUsage(): Promise<{ cpuMs: number; elu: EventLoopUtilization } | null> {
    const w = this.worker;
    if (!w || this.closed) return null;
    const reply = await this.request(w, (id) => ({ type: 'usage', id }));
    return { cpuMs: reply.type === 'usage' ? reply.cpuMs : NaN, elu: w.performance.eventLoopUtilization() };
  }

  /** Lifecycle counters (starts, deaths). */
  stats(): VadWorkerStats {
    return { ...this.counters };
  }

  /** The live worker, if any (diagnostics and tests, e.g. to simulate a crash). */
  get currentWorker(): Worker | null {
    return this.worker;
  }

  /**
   * Makes the worker exit (once its native call in progress, if any, returns) and waits for it (≤ 5 s); outstanding
   * and later batches reject. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(w, new Error('Silero VAD: closed'));
    if (w) {
      const exited = new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        setTimeout(resolve, 5000).unref();
      });
      this.retire(w);
      await exited;
    }
  }

  private spawn(): Worker {
    const { ortPath, modelPath, inputLength, stateWidth, sampleRate } = this.o;
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const w = new Worker(this.workerPath, { workerData: { ortPath, modelPath, inputLength, stateWidth, sampleRate, ctl: ctl.buffer }, execArgv: [] });
    w.unref();
    guardOrtThread(ctl);
    this.ctl.set(w, ctl);
    this.counters.starts++;
    this.worker = w;
    w.on('message', (m: WorkerReply) => this.onMessage(w, m));
    w.on('error', (err) => this.onDead(w, new Error(`VAD worker failed: ${err.message}`)));
    w.on('exit', (code) => {
      releaseOrtThread(ctl);
      this.onDead(w, new Error(`VAD worker exited (code ${code})`));
    });
    return w;
  }

  /** Tells a worker to start no more native calls and exit when idle; it no longer keeps the process up. */
  private retire(w: Worker): void {
    const ctl = this.ctl.get(w);
    if (ctl) stopOrtThread(ctl);
    w.unref();
    try {
      w.postMessage({ type: 'close' });
    } catch {
      // already gone
    }
  }

  /**
   * Sends one message and waits for the reply with its id. The worker is ref'd while any request is outstanding.
   * Rejects on an error reply, the worker's death, or the timeout (which ends the worker as hung).
   */
  private request(w: Worker, make: (id: number) => { type: string; id: number; [k: string]: unknown }, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => this.onDead(w, new Error(`VAD worker: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, { worker: w, resolve, reject, timer });
      w.postMessage(make(id), transfer);
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.worker?.unref();
    return p;
  }

  private onMessage(w: Worker, m: WorkerReply): void {
    if (w !== this.worker) return;
    if (m.type === 'ready') {
      this.startWait?.resolve();
      return;
    }
    if (m.type === 'load_error') {
      this.onDead(w, new Error(`Silero VAD: cannot load model ${this.o.modelPath}: ${m.message}`));
      return;
    }
    const p = this.settle(m.id);
    if (!p) return;
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(m);
  }

  /** The worker is gone (or must go): fail what it holds; the next batch starts a new one. */
  private onDead(w: Worker, err: Error): void {
    if (w !== this.worker) return;
    this.worker = null;
    if (!this.closed) this.counters.deaths++;
    this.startWait?.reject(err);
    this.failAll(w, err);
    // A dead worker ignores this; a hung one, or one that failed to load, exits once its native call returns.
    this.retire(w);
  }

  private failAll(w: Worker | null, err: Error): void {
    for (const [id, p] of [...this.pending]) {
      if (w && p.worker !== w) continue;
      this.settle(id);
      p.reject(err);
    }
  }
}
