import { join } from 'path';
import { Worker } from 'worker_threads';
import type { Logger } from 'pino';
import { ProviderError } from '../errors';
import { guardOrtThread, releaseOrtThread, stopOrtThread } from '../ort-thread-guard';

/** Shape of one Moonshine model: decoder layers, attention heads, head dim (PROTOCOLS.md). */
export interface MoonshineDims {
  layers: number;
  heads: number;
  headDim: number;
}

/** Options of {@link MoonshinePool}. */
export interface MoonshinePoolOptions extends MoonshineDims {
  encoderPath: string;
  decoderPath: string;
  /** Decodes at once (one worker thread each, one onnxruntime intra-op thread each). */
  concurrency: number;
  /** Time allowed for the models to load in a worker (ms). */
  startTimeoutMs: number;
  logger?: Logger;
  /** Provider id used in errors. */
  provider: string;
  /** Worker script. Default: moonshine-worker.js beside this file (tests wrap it to simulate crashes). */
  workerPath?: string;
}

/** One decode's result (natural-log token probabilities; times in ms). */
export interface MoonshineDecode {
  text: string;
  tokens: number[];
  logprobs: number[];
  encodeMs: number;
  decodeMs: number;
}

/** Counters for supervision and tests. */
export interface MoonshinePoolStats {
  queued: number;
  running: number;
  workersStarted: number;
  workersLost: number;
  /** Requests dropped from the queue, never decoded, because their signal aborted. */
  skippedAborted: number;
}

interface Job {
  id: number;
  samples: Float32Array;
  maxTokens: number;
  timeoutMs: number;
  signal: AbortSignal;
  done: boolean;
  onAbort: () => void;
  resolve: (d: MoonshineDecode) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker | null;
  ctl: Int32Array | null;
  ready: Promise<void> | null;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

type Reply =
  | { type: 'ready' }
  | { type: 'load_error'; message: string }
  | ({ type: 'result'; id: number; aborted: boolean } & MoonshineDecode)
  | { type: 'error'; id: number; message: string };

/** ctl[ABANDON]: id of a request the worker must stop decoding at its next step (see moonshine-worker.js). */
const ABANDON = 2;

/**
 * A pool of worker threads running Moonshine (src/providers/stt/moonshine-worker.js), so decoding never blocks the
 * event loop. Requests wait in a FIFO queue and go to an idle worker; each worker decodes one at a time.
 * - Abort: a queued request whose signal aborts is dropped (never decoded); a running one rejects at once and its
 *   worker stops at the next decode step (it then takes the next request).
 * - Timeout (`timeoutMs` per request, counted from when a worker takes it): the request rejects (retryable) and the
 *   worker is told to abandon it the same way.
 * - Crash isolation: a worker that exits or throws fails only the request it held; the slot starts a new worker for
 *   the next request. A worker that cannot load the models fails the request that needed it with a non-retryable
 *   error (the next request tries again).
 * Workers start on first use or {@link warmup}; they are never `terminate()`d (see ort-thread-guard.ts) but told to
 * exit, and are unref'd while idle so they never keep the process alive.
 */
export class MoonshinePool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly counters = { workersStarted: 0, workersLost: 0, skippedAborted: 0 };

  constructor(private readonly o: MoonshinePoolOptions) {
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new Error(`MoonshinePool: concurrency must be a positive integer, got ${o.concurrency}`);
    this.slots = Array.from({ length: o.concurrency }, () => ({ worker: null, ctl: null, ready: null, job: null, timer: null }));
  }

  /** Starts every worker and waits until their models are loaded. @throws ProviderError when a load fails. */
  async warmup(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.start(s)));
  }

  /**
   * Decodes 16 kHz samples in [-1, 1] (greedy, at most `maxTokens` tokens).
   * @throws ProviderError (retryable: timeout, worker crash, pool closed; not retryable: model load or decode
   *   error); the signal's reason when aborted.
   */
  decode(samples: Float32Array, o: { maxTokens: number; timeoutMs: number; signal: AbortSignal }): Promise<MoonshineDecode> {
    o.signal.throwIfAborted();
    if (this.closed) return Promise.reject(new ProviderError(this.o.provider, 'closed', { retryable: true }));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, samples, maxTokens: o.maxTokens, timeoutMs: o.timeoutMs, signal: o.signal, done: false, onAbort: () => this.onAbort(job), resolve, reject };
      o.signal.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** @internal Whether each slot is decoding a request (tests). */
  busySlots(): boolean[] {
    return this.slots.map((s) => s.job !== null);
  }

  stats(): MoonshinePoolStats {
    return { queued: this.queue.length, running: this.slots.filter((s) => s.job).length, ...this.counters };
  }

  /** Fails queued requests, lets running decodes stop at their next step, and makes the workers exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) this.settle(j, new ProviderError(this.o.provider, 'closed', { retryable: true }));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) this.abandon(s, new ProviderError(this.o.provider, 'closed', { retryable: true }));
        const w = s.worker;
        if (!w) return;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        this.retire(s);
        w.ref(); // until it has exited: close() resolves only then
        await exited;
      }),
    );
  }

  private pump(): void {
    for (const s of this.slots) {
      if (s.job || this.closed) continue;
      const job = this.queue.shift();
      if (!job) return;
      s.job = job;
      void this.run(s, job);
    }
  }

  private async run(s: Slot, job: Job): Promise<void> {
    try {
      await this.start(s);
    } catch (err) {
      s.job = null;
      this.settle(job, err);
      this.pump();
      return;
    }
    if (job.done || s.job !== job || !s.worker) return; // aborted while the worker loaded
    s.worker.ref();
    s.timer = setTimeout(() => this.abandon(s, new ProviderError(this.o.provider, `decode timed out after ${job.timeoutMs} ms`, { retryable: true })), job.timeoutMs);
    s.worker.postMessage({ type: 'decode', id: job.id, samples: job.samples, maxTokens: job.maxTokens });
  }

  /** Starts the slot's worker if needed and waits for its models. */
  private start(s: Slot): Promise<void> {
    if (s.ready) return s.ready;
    const { encoderPath, decoderPath, layers, heads, headDim } = this.o;
    const ctl = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(this.o.workerPath ?? join(__dirname, 'moonshine-worker.js'), {
      workerData: { ortPath: require.resolve('onnxruntime-node'), encoderPath, decoderPath, layers, heads, headDim, ctl: ctl.buffer },
      execArgv: [],
    });
    guardOrtThread(ctl);
    this.counters.workersStarted++;
    Object.assign(s, { worker, ctl });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ProviderError(this.o.provider, `models did not load within ${this.o.startTimeoutMs} ms`, { retryable: false })), this.o.startTimeoutMs);
      worker.on('message', (m: Reply) => {
        if (m.type === 'ready') (clearTimeout(timer), resolve());
        else if (m.type === 'load_error') (clearTimeout(timer), reject(new ProviderError(this.o.provider, `cannot load the model: ${m.message}`, { retryable: false })));
        else this.onReply(s, m);
      });
      worker.on('error', (err) => (clearTimeout(timer), this.onDead(s, worker, err), reject(new ProviderError(this.o.provider, `worker failed: ${err.message}`, { retryable: true, cause: err }))));
      worker.on('exit', (code) => (clearTimeout(timer), releaseOrtThread(ctl), this.onDead(s, worker, new Error(`worker exited (code ${code})`)), reject(new ProviderError(this.o.provider, `worker exited (code ${code}) while loading`, { retryable: true }))));
    });
    s.ready = ready;
    ready.then(
      () => s.worker === worker && !s.job && worker.unref(),
      () => {
        if (s.worker !== worker) return;
        // The next request starts a new worker (its 'exit' finds the slot moved on and releases only the guard).
        this.retire(s);
        Object.assign(s, { worker: null, ctl: null, ready: null });
      },
    );
    return ready;
  }

  private onReply(s: Slot, m: Exclude<Reply, { type: 'ready' } | { type: 'load_error' }>): void {
    const job = s.job;
    if (!job || job.id !== m.id) return; // an abandoned request finishing: its caller already has an answer
    this.release(s);
    if (m.type === 'error') this.settle(job, new ProviderError(this.o.provider, `decode failed: ${m.message}`, { retryable: false }));
    else this.settle(job, null, { text: m.text, tokens: m.tokens, logprobs: m.logprobs, encodeMs: m.encodeMs, decodeMs: m.decodeMs });
    this.pump();
  }

  private onAbort(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.counters.skippedAborted++;
      return this.settle(job, job.signal.reason);
    }
    const s = this.slots.find((x) => x.job === job);
    if (s) this.abandon(s, job.signal.reason);
  }

  /** Rejects the slot's request now; its worker stops at the next decode step and its late answer is ignored. */
  private abandon(s: Slot, err: unknown): void {
    const job = s.job;
    if (!job) return;
    if (s.ctl) Atomics.store(s.ctl, ABANDON, job.id);
    this.release(s);
    this.settle(job, err);
    // The worker is still finishing `job` (up to one decode step); the next request queues behind it in its port.
    this.pump();
  }

  private release(s: Slot): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    s.job = null;
    if (!this.queue.length) s.worker?.unref();
  }

  private onDead(s: Slot, w: Worker, err: Error): void {
    if (s.worker !== w) return;
    if (!this.closed) {
      this.counters.workersLost++;
      this.o.logger?.warn({ provider: this.o.provider, err: err.message }, 'Moonshine worker lost; the next request starts a new one');
    }
    const job = s.job;
    Object.assign(s, { worker: null, ctl: null, ready: null });
    if (job) {
      this.release(s);
      this.settle(job, new ProviderError(this.o.provider, `worker lost during decode: ${err.message}`, { retryable: true, cause: err }));
    }
    this.pump();
  }

  private retire(s: Slot): void {
    const w = s.worker;
    if (s.ctl) stopOrtThread(s.ctl);
    if (!w) return;
    w.unref();
    try {
      w.postMessage({ type: 'close' });
    } catch {
      // already gone
    }
  }

  private settle(job: Job, err: unknown, value?: MoonshineDecode): void {
    if (job.done) return;
    job.done = true;
    job.signal.removeEventListener('abort', job.onAbort);
    if (value) job.resolve(value);
    else job.reject(err);
  }
}
