import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import { join } from 'path';
import { createInterface } from 'readline';
import type { Logger } from 'pino';
import { z } from 'zod';
import { FAST_UPSAMPLE, resample } from '../../audio/resample';
import type { Pcm } from '../../audio/types';
import { ProviderError } from '../errors';
import type { SttProvider, Transcript } from '../types';

/** Options of {@link LocalPocketsphinxStt}. */
export interface LocalPocketsphinxOptions {
  /** Python interpreter that has python3-pocketsphinx (Debian's). Default `/usr/bin/python3`. */
  pythonBin?: string;
  /** Interpreter flags placed before the script (e.g. `['-S']`). Default none. */
  pythonArgs?: string[];
  /** Worker script. Default: pocketsphinx_worker.py beside this file. */
  workerScript?: string;
  /** Extra pocketsphinx decoder options, e.g. `{ '-beam': 1e-60 }` (passed to the worker as JSON). */
  decoderOptions?: Record<string, string | number | boolean>;
  /** Time allowed for the model to load (ms). Default 20000. */
  startTimeoutMs?: number;
  /**
   * Worker processes (each loads the model once: ~0.25 s, tens of MB). Default 2. With N workers, N utterances
   * decode at once, so one long utterance does not hold up other calls.
   */
  workers?: number;
  /**
   * Time a worker may take to answer one request, counted from when the request is written to it (time spent
   * queued does not count), in ms; or a function of the utterance's duration (ms) returning it.
   * Default `max(5000, 3 × audio duration)`. On expiry the request rejects (retryable) and the worker is restarted.
   */
  requestTimeoutMs?: number | ((audioMs: number) => number);
  logger?: Logger;
}

/** Counters of {@link LocalPocketsphinxStt} (for supervision and tests). */
export interface PocketsphinxStats {
  /** Requests waiting for an idle worker. */
  queued: number;
  /** Workers currently decoding a request (including requests whose caller aborted meanwhile). */
  inFlight: number;
  /** Requests written to a worker since construction. */
  sent: number;
  /** Requests dropped from the queue, never sent, because their signal aborted. */
  skippedAborted: number;
}

interface Job {
  id: string;
  line: string; // JSON request line for the worker
  timeoutMs: number;
  signal: AbortSignal;
  settled: boolean;
  resolve: (t: Transcript) => void;
  reject: (e: unknown) => void;
}

/** One worker process slot of the pool. */
interface Slot {
  index: number;
  proc: ChildProcessWithoutNullStreams | null; // starting or running
  ready: Promise<void> | null; // while proc is set
  isReady: boolean;
  startFailed: boolean; // last start failed: not restarted until the next transcribe()/warmup()
  job: Job | null; // written to the worker, answer not yet received
  timer: NodeJS.Timeout | null;
}

interface WorkerLine { ready?: boolean; fatal?: string; id?: string; text?: string; ms?: number; error?: string }

const ID = 'local.pocketsphinx';
const MODEL_RATE = 16000;
const OptionsSchema = z.object({
  workers: z.number().int().min(1).max(64).optional(),
  startTimeoutMs: z.number().positive().optional(),
  requestTimeoutMs: z.union([z.number().positive(), z.custom<(audioMs: number) => number>((v) => typeof v === 'function', 'must be a function')]).optional(),
});

/**
 * Offline English STT: CMU pocketsphinx (Debian `python3-pocketsphinx`, 5prealpha API) with the en-us 16 kHz model,
 * run in a small pool of persistent Python workers (`workers`, default 2; model loaded once per worker).
 * Protocol: JSON lines over stdin/stdout (`{id, pcm16le_b64, sampleRate}` → `{id, text, ms}` | `{id, error}`);
 * see pocketsphinx_worker.py.
 *
 * Scheduling: requests wait in a FIFO queue in Node and are written to a worker only when it is idle, so each
 * worker holds at most one request. A request whose signal aborts while queued is dropped and never decoded; one
 * that aborts while decoding rejects at once and the worker's answer is dropped (the worker stays busy until then).
 * Each sent request has a timeout (`requestTimeoutMs`); on expiry it rejects and that worker is killed. A worker
 * that dies or is killed fails only the request it was decoding; the queue goes on with the other workers and a
 * restarted one (a worker that dies after loading is replaced at once).
 *
 * Audio of any rate is resampled to 16 kHz here; 8 kHz phone audio uses the short 18-tap upsampler
 * ({@link FAST_UPSAMPLE}), which measured better WER with this model than the long sinc (see the speech tests).
 * The model is English-only: `language` is always undefined (the engine runs its own language id).
 * Errors: ProviderError — retryable when the worker died, timed out, or the provider was closed; not retryable
 * when python3-pocketsphinx or the model is missing or the request was bad. Abort rejects at once with the
 * signal's reason (an AbortError). The constructor throws a ZodError for invalid `workers`/timeouts.
 */
export class LocalPocketsphinxStt implements SttProvider {
  readonly id = ID;
  private readonly o: LocalPocketsphinxOptions;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private sent = 0;
  private skippedAborted = 0;
  private closing = false;

  constructor(options: LocalPocketsphinxOptions = {}) {
    OptionsSchema.parse({ workers: options.workers, startTimeoutMs: options.startTimeoutMs, requestTimeoutMs: options.requestTimeoutMs });
    this.o = options;
    this.slots = Array.from({ length: options.workers ?? 2 }, (_, index) => ({
      index, proc: null, ready: null, isReady: false, startFailed: false, job: null, timer: null,
    }));
  }

  /**
   * Transcribes one utterance (PCM16 mono, any sample rate; 8000 Hz on the phone path).
   * @returns `{ text }` (lower-case words, '' when nothing was recognised), `language` undefined.
   * @throws ProviderError (see class doc); the signal's reason when aborted.
   */
  async transcribe(audio: Pcm, o: { languageHint?: string; signal: AbortSignal }): Promise<Transcript> {
    o.signal.throwIfAborted();
    if (audio.samples.length === 0) return { text: '' };
    const pcm16k = audio.sampleRate === MODEL_RATE ? audio : resample(audio, MODEL_RATE, audio.sampleRate === 8000 ? FAST_UPSAMPLE : {});
    const audioMs = (pcm16k.samples.length * 1000) / MODEL_RATE;
    const t = this.o.requestTimeoutMs;
    const timeoutMs = typeof t === 'function' ? t(audioMs) : t ?? Math.max(5000, 3 * audioMs);
    const id = String(this.nextId++);
    const bytes = Buffer.from(pcm16k.samples.buffer, pcm16k.samples.byteOffset, pcm16k.samples.byteLength);
    const line = JSON.stringify({ id, pcm16le_b64: bytes.toString('base64'), sampleRate: MODEL_RATE }) + '\n';
    for (const s of this.slots) s.startFailed = false; // a new call is a new attempt to start failed workers
    return new Promise<Transcript>((resolve, reject) => {
      const onAbort = () => {
        if (job.settled) return;
        const i = this.queue.indexOf(job);
        if (i >= 0) { this.queue.splice(i, 1); this.skippedAborted++; }
        settle(job, () => reject(o.signal.reason ?? new DOMException('aborted', 'AbortError')));
      };
      const settle = (j: Job, f: () => void) => {
        j.settled = true;
        o.signal.removeEventListener('abort', onAbort);
        f();
      };
      const job: Job = {
        id, line, timeoutMs, signal: o.signal, settled: false,
        resolve: (tr) => { if (!job.settled) settle(job, () => resolve(tr)); },
        reject: (e) => { if (!job.settled) settle(job, () => reject(e)); },
      };
      o.signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Process id of the first running worker, if any (for supervision and tests). */
  get workerPid(): number | undefined {
    return this.workerPids[0];
  }

  /** Process ids of all running (or starting) workers, in slot order. */
  get workerPids(): number[] {
    return this.slots.flatMap((s) => (s.proc?.pid !== undefined ? [s.proc.pid] : []));
  }

  /** Process ids of the workers decoding a request right now. */
  get busyWorkerPids(): number[] {
    return this.slots.flatMap((s) => (s.job && s.proc?.pid !== undefined ? [s.proc.pid] : []));
  }

  /** Queue and request counters; see {@link PocketsphinxStats}. */
  get stats(): PocketsphinxStats {
    return { queued: this.queue.length, inFlight: this.slots.filter((s) => s.job).length, sent: this.sent, skippedAborted: this.skippedAborted };
  }

  /**
   * Starts all workers and loads the model in each now (~0.25-1 s), so the first utterances do not pay for it.
   * @throws ProviderError when a worker cannot start (see class doc).
   */
  async warmup(): Promise<void> {
    for (const s of this.slots) s.startFailed = false;
    await Promise.all(this.slots.map((s) => this.startSlot(s)));
  }

  /** Rejects queued and in-flight requests (retryable ProviderError) and stops all workers. Safe to call twice. */
  async close(): Promise<void> {
    const err = new ProviderError(ID, 'provider closed', { retryable: true });
    for (const job of this.queue.splice(0)) job.reject(err);
    this.closing = true; // no restarts while stopping; a later transcribe()/warmup() starts workers again
    try {
      await Promise.all(this.slots.map(async (s) => {
        s.job?.reject(err);
        const p = s.proc;
        if (!p) return;
        const exited = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGTERM');
        await exited;
      }));
    } finally {
      this.closing = false;
    }
  }

  /** Hands queued requests to idle workers; starts workers when queued work exceeds the ones starting. */
  private pump(): void {
    for (const slot of this.slots) {
      if (!slot.isReady || slot.job || !slot.proc) continue;
      const job = this.queue.shift();
      if (!job) return;
      if (job.settled || job.signal.aborted) { this.skippedAborted++; job.reject(job.signal.reason); continue; } // defensive
      this.dispatch(slot, job);
    }
    let needed = this.queue.length - this.slots.filter((s) => s.proc && !s.isReady && !s.startFailed).length;
    for (const slot of this.slots) {
      if (needed <= 0) break;
      if (slot.proc || slot.startFailed) continue;
      this.startSlot(slot).catch(() => { /* handled in startSlot */ });
      needed--;
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    this.sent++;
    slot.timer = setTimeout(() => this.onTimeout(slot, job), job.timeoutMs);
    slot.proc!.stdin.write(job.line);
  }

  private onTimeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    slot.job = null;
    slot.timer = null;
    slot.isReady = false; // no new work for the dying worker
    job.reject(new ProviderError(ID, `no answer within ${Math.round(job.timeoutMs)} ms; worker restarted`, { retryable: true }));
    this.o.logger?.warn({ provider: ID, worker: slot.index, timeoutMs: job.timeoutMs }, 'pocketsphinx request timed out; killing worker');
    slot.proc?.kill('SIGKILL'); // 'exit' clears the slot and pump() restarts it when work is queued
  }

  private onAnswer(slot: Slot, msg: WorkerLine): void {
    const job = slot.job;
    if (!job || msg.id === undefined || msg.id === null || String(msg.id) !== job.id) return;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (typeof msg.error === 'string') job.reject(new ProviderError(ID, `decode failed: ${msg.error}`, { retryable: false }));
    else {
      this.o.logger?.debug({ provider: ID, worker: slot.index, decodeMs: msg.ms, chars: (msg.text ?? '').length }, 'stt done');
      job.resolve({ text: msg.text ?? '', language: undefined }); // no-op when the caller aborted meanwhile
    }
    this.pump();
  }

  /** Starts the slot's worker if needed; resolves when it has loaded the model. */
  private startSlot(slot: Slot): Promise<void> {
    if (!slot.ready) {
      slot.ready = this.spawnWorker(slot);
      slot.ready.catch(() => { /* handled by onStartFailed */ });
    }
    return slot.ready;
  }

  /** A start failure rejects the queue when no other worker can take it, or when it would fail everywhere. */
  private onStartFailed(slot: Slot, err: ProviderError): void {
    slot.startFailed = true;
    const othersAlive = this.slots.some((s) => s !== slot && s.proc && !s.startFailed);
    if (!err.retryable || !othersAlive) for (const job of this.queue.splice(0)) job.reject(err);
  }

  private spawnWorker(slot: Slot): Promise<void> {
    const python = this.o.pythonBin ?? '/usr/bin/python3';
    const script = this.o.workerScript ?? join(__dirname, 'pocketsphinx_worker.py');
    const args = [...(this.o.pythonArgs ?? []), script, JSON.stringify(this.o.decoderOptions ?? {})];
    const startTimeoutMs = this.o.startTimeoutMs ?? 20000;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let wasReady = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          this.onStartFailed(slot, err as ProviderError); // synchronously, before 'exit' can pump() a restart
          reject(err);
        } else {
          slot.isReady = true;
          slot.startFailed = false;
          wasReady = true;
          resolve();
          this.pump();
        }
      };
      const proc = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      slot.proc = proc;
      slot.isReady = false;
      const timer = setTimeout(() => {
        done(new ProviderError(ID, `worker did not load the model within ${startTimeoutMs} ms`, { retryable: true }));
        proc.kill('SIGKILL');
      }, startTimeoutMs);
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      proc.stdin.on('error', () => { /* EPIPE when the worker died: handled by 'exit' */ });
      const dead = (why: string) => {
        done(new ProviderError(ID, why, { retryable: true }));
        if (slot.proc !== proc) return;
        slot.proc = null;
        slot.ready = null;
        slot.isReady = false;
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = null;
        const job = slot.job;
        slot.job = null;
        job?.reject(new ProviderError(ID, why, { retryable: true }));
        // A worker that had loaded the model and then died (crash, kill, request timeout) is replaced at once, so
        // the pool stays at full size; one that failed to start is retried only on the next call (no restart loop).
        if (wasReady && !this.closing) this.startSlot(slot).catch(() => { /* handled by onStartFailed */ });
        this.pump();
      };
      proc.on('error', (err: NodeJS.ErrnoException) => {
        const msg = err.code === 'ENOENT' ? `python interpreter not found: ${python}` : `cannot start worker: ${err.message}`;
        done(new ProviderError(ID, msg, { retryable: false, cause: err }));
        dead(msg);
      });
      proc.on('exit', (code, sig) => {
        const why = `worker exited (code ${code}, signal ${sig})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
        // Stopping the pool on close() is expected; any other exit is worth a warning.
        if (this.closing) this.o.logger?.debug({ provider: ID, worker: slot.index, code, signal: sig }, 'pocketsphinx worker stopped');
        else this.o.logger?.warn({ provider: ID, worker: slot.index, code, signal: sig }, 'pocketsphinx worker exited');
        dead(why);
      });
      createInterface({ input: proc.stdout }).on('line', (line) => {
        let msg: WorkerLine;
        try { msg = JSON.parse(line); } catch { return; }
        if (msg.ready) return done();
        if (msg.fatal) return done(new ProviderError(ID, msg.fatal, { retryable: false }));
        if (slot.proc === proc) this.onAnswer(slot, msg);
      });
    });
  }
}
