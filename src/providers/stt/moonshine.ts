import { createHash } from 'crypto';
import { createReadStream, existsSync } from 'fs';
import { dirname, join } from 'path';
import type { Logger } from 'pino';
import { FAST_UPSAMPLE, resample } from '../../audio/resample';
import type { Pcm } from '../../audio/types';
import { ProviderError } from '../errors';
import type { SttOptions, SttProvider, Transcript } from '../types';
import { MoonshinePool, type MoonshineDims, type MoonshinePoolStats } from './moonshine-pool';
import PINS from './moonshine-models.json';

export type MoonshineSize = 'base' | 'tiny';

/** Decoder shapes (PROTOCOLS.md): tiny 6 layers × 8 heads × 36; base 8 layers × 8 heads × 52. */
const DIMS: Record<MoonshineSize, MoonshineDims> = { tiny: { layers: 6, heads: 8, headDim: 36 }, base: { layers: 8, heads: 8, headDim: 52 } };
const MODEL_RATE = 16000;
/** Greedy decoding stops here at the latest: ~6.5 tokens per second of audio (PROTOCOLS.md), and a few for short audio. */
const TOKENS_PER_SECOND = 6.5;
const MIN_TOKENS = 8;
/**
 * The package root: the nearest directory at or above `dir` holding a package.json (the repository from src/ under
 * tsx, and from dist/src/ after `npm run build`; /app in the Docker image). Falls back to `dir` itself.
 */
export function packageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dir;
  }
}

/** Default models directory: `<package root>/models/moonshine` (git-ignored; filled by `npm run fetch-models`). */
export const DEFAULT_MOONSHINE_DIR = join(packageRoot(__dirname), 'models', 'moonshine');
const FETCH_COMMAND = 'npm run fetch-models';

/** Options of {@link MoonshineStt}. */
export interface MoonshineOptions {
  /** Model size. Default base (≈ 5 % WER on phone audio; tiny ≈ 6 %, faster). */
  size?: MoonshineSize;
  /** Directory holding `<size>/encoder_model.onnx` and `<size>/decoder_model_merged.onnx`. Default models/moonshine. */
  modelDir?: string;
  /** Decodes at once (worker threads, one onnxruntime thread each). Default 2. */
  concurrency?: number;
  /** Per request, from when a worker takes it (ms); or a function of the audio's duration (ms). Default max(5 s, 3 × audio). */
  requestTimeoutMs?: number | ((audioMs: number) => number);
  /** Model load time allowed per worker (ms). Default 60000. */
  startTimeoutMs?: number;
  logger?: Logger;
  /** @internal Worker script (tests wrap the real one to simulate crashes). */
  workerPath?: string;
}

/**
 * Offline English STT: Moonshine (Useful Sensors, MIT) quantized ONNX weights run with onnxruntime-node in a pool of
 * worker threads ({@link MoonshinePool}); the weights come from `npm run fetch-models` (sha256-pinned, see
 * scripts/fetch-models.mjs). 8 kHz phone audio is upsampled to the model's 16 kHz with the project's resampler
 * ({@link FAST_UPSAMPLE}).
 *
 * Result: `{ text, language: 'en', confidence }` where confidence = exp(mean natural-log probability of the decoded
 * tokens), i.e. their geometric-mean probability, 0..1. English speech measured −0.1…−0.3 mean log-probability
 * (confidence ≈ 0.74–0.9); other languages come out as wrong English near −1.0 (≈ 0.37) (PROTOCOLS.md): a "not
 * understood" signal, not a language id. Silence or noise gives `''` (confidence undefined).
 *
 * Errors: ProviderError — not retryable when the model files are missing or corrupt (the message names
 * `npm run fetch-models`) or fail to load; retryable on timeout or a worker crash. Abort rejects with the signal's
 * reason: a queued request is never decoded, a running one stops at its next decode step.
 */
export class MoonshineStt implements SttProvider {
  readonly id: string;
  private readonly size: MoonshineSize;
  private readonly dir: string;
  private readonly pool: MoonshinePool;
  private checked: Promise<void> | null = null;

  constructor(private readonly o: MoonshineOptions = {}) {
    this.size = o.size ?? 'base';
    if (!DIMS[this.size]) throw new Error(`MoonshineStt: size must be base or tiny, got ${String(this.size)}`);
    this.id = `local.moonshine-${this.size}`;
    this.dir = join(o.modelDir ?? DEFAULT_MOONSHINE_DIR, this.size);
    this.pool = new MoonshinePool({
      ...DIMS[this.size],
      encoderPath: join(this.dir, 'encoder_model.onnx'),
      decoderPath: join(this.dir, 'decoder_model_merged.onnx'),
      concurrency: o.concurrency ?? 2,
      startTimeoutMs: o.startTimeoutMs ?? 60_000,
      logger: o.logger,
      provider: this.id,
      workerPath: o.workerPath,
    });
  }

  /** Checks the model files (present, sha256 as pinned) and loads them in every worker. @throws ProviderError */
  async warmup(): Promise<void> {
    await this.checkFiles();
    await this.pool.warmup();
  }

  /**
   * Transcribes one utterance (PCM16 mono, any rate; 8 kHz on the phone path).
   * @throws ProviderError (see class doc); the signal's reason when aborted.
   */
  async transcribe(audio: Pcm, o: SttOptions): Promise<Transcript> {
    o.signal.throwIfAborted();
    if (audio.samples.length === 0) return { text: '', language: 'en' };
    await this.checkFiles();
    const pcm = audio.sampleRate === MODEL_RATE ? audio : resample(audio, MODEL_RATE, audio.sampleRate === 8000 ? FAST_UPSAMPLE : {});
    const samples = new Float32Array(pcm.samples.length);
    for (let i = 0; i < samples.length; i++) samples[i] = pcm.samples[i] / 32768;
    const audioMs = (samples.length * 1000) / MODEL_RATE;
    const t = this.o.requestTimeoutMs;
    const timeoutMs = typeof t === 'function' ? t(audioMs) : t ?? Math.max(5000, 3 * audioMs);
    const maxTokens = Math.max(MIN_TOKENS, Math.ceil((audioMs / 1000) * TOKENS_PER_SECOND));
    const t0 = performance.now();
    const d = await this.pool.decode(samples, { maxTokens, timeoutMs, signal: o.signal });
    this.o.logger?.debug({ provider: this.id, audioMs: Math.round(audioMs), totalMs: Math.round(performance.now() - t0), encodeMs: Math.round(d.encodeMs), decodeMs: Math.round(d.decodeMs), tokens: d.tokens.length }, 'moonshine decode');
    if (!d.text) return { text: '', language: 'en' };
    const meanLogprob = d.logprobs.reduce((a, b) => a + b, 0) / d.logprobs.length;
    return { text: d.text, language: 'en', confidence: Math.exp(meanLogprob) };
  }

  stats(): MoonshinePoolStats {
    return this.pool.stats();
  }

  /** @internal Whether each worker slot is decoding (tests). */
  busySlots(): boolean[] {
    return this.pool.busySlots();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private checkFiles(): Promise<void> {
    this.checked ??= verifyModelFiles(this.dir, this.size, this.id).catch((err) => {
      this.checked = null; // fetched meanwhile? the next call checks again
      throw err;
    });
    return this.checked;
  }
}

/**
 * Verifies `<dir>/{encoder_model,decoder_model_merged}.onnx` against the pinned sha256 (≈ 0.2 s for base).
 * @throws ProviderError (not retryable) naming the missing or corrupt file and `npm run fetch-models`.
 */
export async function verifyModelFiles(dir: string, size: MoonshineSize, provider: string): Promise<void> {
  for (const file of ['encoder_model.onnx', 'decoder_model_merged.onnx']) {
    const path = join(dir, file);
    const want = (PINS.files as Record<string, string>)[`${size}/${file}`];
    if (!existsSync(path)) throw new ProviderError(provider, `model file ${path} is missing: run \`${FETCH_COMMAND}\``, { retryable: false });
    const got = await sha256(path);
    if (got !== want) throw new ProviderError(provider, `model file ${path} is corrupt (sha256 ${got}, expected ${want}): run \`${FETCH_COMMAND}\``, { retryable: false });
  }
}

function sha256(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path).on('error', fail).on('data', (d) => h.update(d)).on('end', () => ok(h.digest('hex')));
  });
}
