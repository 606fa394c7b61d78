import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import { join } from 'path';
import { createInterface } from 'readline';
import type { Logger } from 'pino';
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
  logger?: Logger;
}

interface Pending {
  resolve: (t: Transcript) => void;
  reject: (e: Error) => void;
}

const ID = 'local.pocketsphinx';
const MODEL_RATE = 16000;

/**
 * Offline English STT: CMU pocketsphinx (Debian `python3-pocketsphinx`, 5prealpha API) with the en-us 16 kHz model,
 * in ONE persistent Python worker per provider (model loaded once). Protocol: JSON lines over stdin/stdout
 * (`{id, pcm16le_b64, sampleRate}` → `{id, text, ms}` | `{id, error}`), matched by id; see pocketsphinx_worker.py.
 *
 * Audio of any rate is resampled to 16 kHz here; 8 kHz phone audio uses the short 18-tap upsampler
 * ({@link FAST_UPSAMPLE}), which measured better WER with this model than the long sinc (see the speech tests).
 * The model is English-only: `language` is always undefined (the engine runs its own language id).
 * Errors: ProviderError — retryable when the worker died or was killed (it restarts on the next call), not retryable
 * when python3-pocketsphinx or the model is missing or the request was bad. Abort rejects at once with the signal's
 * reason (an AbortError); the worker's later answer is dropped.
 */
export class LocalPocketsphinxStt implements SttProvider {
  readonly id = ID;
  private readonly o: LocalPocketsphinxOptions;
  private proc: ChildProcessWithoutNullStreams | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;

  constructor(options: LocalPocketsphinxOptions = {}) {
    this.o = options;
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
    await this.start(o.signal);
    const proc = this.proc;
    if (!proc) throw new ProviderError(ID, 'worker is not running', { retryable: true });
    const id = String(this.nextId++);
    const bytes = Buffer.from(pcm16k.samples.buffer, pcm16k.samples.byteOffset, pcm16k.samples.byteLength);
    return new Promise<Transcript>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(o.signal.reason ?? new DOMException('aborted', 'AbortError'));
      };
      o.signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (t) => { o.signal.removeEventListener('abort', onAbort); resolve(t); },
        reject: (e) => { o.signal.removeEventListener('abort', onAbort); reject(e); },
      });
      proc.stdin.write(JSON.stringify({ id, pcm16le_b64: bytes.toString('base64'), sampleRate: MODEL_RATE }) + '\n');
    });
  }

  /** Process id of the running worker, if any (for supervision and tests). */
  get workerPid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the worker and loads the model now, so the first utterance does not pay for it (~0.3-1 s). */
  warmup(): Promise<void> {
    return this.start(new AbortController().signal);
  }

  /** Kills the worker and rejects anything pending (retryable). Safe to call twice. */
  async close(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    this.ready = null;
    if (p && p.exitCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      await exited;
    }
    this.failAll(new ProviderError(ID, 'provider closed', { retryable: true }));
  }

  /** Starts the worker if needed and waits for its `{ready:true}` line. */
  private start(signal: AbortSignal): Promise<void> {
    if (!this.ready) this.ready = this.spawnWorker().catch((e) => { this.ready = null; throw e; });
    // Abort while the model loads: reject this call, keep loading for the next one.
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.ready!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private spawnWorker(): Promise<void> {
    const python = this.o.pythonBin ?? '/usr/bin/python3';
    const script = this.o.workerScript ?? join(__dirname, 'pocketsphinx_worker.py');
    const args = [...(this.o.pythonArgs ?? []), script, JSON.stringify(this.o.decoderOptions ?? {})];
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err); else resolve();
      };
      const proc = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      this.proc = proc;
      const timer = setTimeout(() => {
        done(new ProviderError(ID, `worker did not load the model within ${this.o.startTimeoutMs ?? 20000} ms`, { retryable: true }));
        proc.kill('SIGKILL');
      }, this.o.startTimeoutMs ?? 20000);
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      proc.stdin.on('error', () => { /* EPIPE when the worker died: handled by 'exit' */ });
      proc.on('error', (err: NodeJS.ErrnoException) => {
        const msg = err.code === 'ENOENT' ? `python interpreter not found: ${python}` : `cannot start worker: ${err.message}`;
        done(new ProviderError(ID, msg, { retryable: false, cause: err }));
      });
      proc.on('exit', (code, sig) => {
        if (this.proc === proc) { this.proc = null; this.ready = null; }
        const why = `worker exited (code ${code}, signal ${sig})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
        done(new ProviderError(ID, why, { retryable: true }));
        this.failAll(new ProviderError(ID, why, { retryable: true }));
        this.o.logger?.warn({ provider: ID, code, signal: sig }, 'pocketsphinx worker exited');
      });
      createInterface({ input: proc.stdout }).on('line', (line) => {
        let msg: { ready?: boolean; fatal?: string; id?: string; text?: string; ms?: number; error?: string };
        try { msg = JSON.parse(line); } catch { return; }
        if (msg.ready) return done();
        if (msg.fatal) return done(new ProviderError(ID, msg.fatal, { retryable: false }));
        if (msg.id === undefined || msg.id === null) return;
        const p = this.pending.get(String(msg.id));
        if (!p) return; // aborted: answer dropped
        this.pending.delete(String(msg.id));
        if (typeof msg.error === 'string') p.reject(new ProviderError(ID, `decode failed: ${msg.error}`, { retryable: false }));
        else {
          this.o.logger?.debug({ provider: ID, decodeMs: msg.ms, chars: (msg.text ?? '').length }, 'stt done');
          p.resolve({ text: msg.text ?? '', language: undefined });
        }
      });
    });
  }

  private failAll(err: ProviderError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
