import { execFile, spawn } from 'child_process';
import type { Logger } from 'pino';
import { mulawEncode } from '../../audio/mulaw';
import { StreamingResampler } from '../../audio/resample';
import { pcm16leToMono, readWavHeader, type WavHeader } from '../../audio/wav';
import { ProviderError } from '../errors';
import type { AudioChunk, TtsProvider } from '../types';

/** Options of {@link LocalEspeakTts}. */
export interface LocalEspeakOptions {
  /** espeak-ng binary. Default `espeak-ng`. */
  bin?: string;
  /** Speaking rate in words per minute (`-s`). Default 170. */
  rate?: number;
  /** ISO 639-1 → espeak-ng voice; merged over {@link DEFAULT_ESPEAK_VOICES}. */
  voices?: Record<string, string>;
  logger?: Logger;
}

/** Default voice per ISO 639-1 language. Unknown languages fall back to the code itself (espeak-ng knows ~100). */
export const DEFAULT_ESPEAK_VOICES: Readonly<Record<string, string>> = Object.freeze({ en: 'en-us', es: 'es', fr: 'fr', de: 'de' });

const ID = 'local.espeak-ng';
const OUT_RATE = 8000;

/**
 * Offline TTS with espeak-ng: `espeak-ng --stdout -v <voice> -s <rate>`, text on stdin (never through a shell),
 * WAV read from stdout as it arrives (espeak-ng writes a streaming header whose data size is unknown), resampled
 * (22050 → 8000 Hz, windowed sinc) and mu-law encoded. Yields `{ encoding: 'mulaw', sampleRate: 8000, data }`
 * chunks as espeak-ng produces audio. Abort kills the process and the iteration throws the signal's reason.
 * @throws ProviderError — not retryable when espeak-ng is missing (ENOENT), the voice is unknown (checked against
 *   `espeak-ng --voices`, since espeak-ng itself silently falls back to English), or the WAV is bad; retryable on other
 *   non-zero exits.
 */
export class LocalEspeakTts implements TtsProvider {
  readonly id = ID;
  private readonly bin: string;
  private readonly rate: number;
  private readonly voices: Record<string, string>;
  private readonly logger?: Logger;
  private knownVoices: Promise<Set<string> | null> | null = null;

  constructor(o: LocalEspeakOptions = {}) {
    this.bin = o.bin ?? 'espeak-ng';
    this.rate = o.rate ?? 170;
    if (!Number.isInteger(this.rate) || this.rate < 80 || this.rate > 450) throw new Error(`LocalEspeakTts: rate must be 80..450 wpm, got ${this.rate}`);
    this.voices = { ...DEFAULT_ESPEAK_VOICES, ...(o.voices ?? {}) };
    this.logger = o.logger;
  }

  /** espeak-ng voice for a request: explicit `voice`, else the language map, else the language code. */
  voiceFor(language: string, voice?: string): string {
    const v = voice ?? this.voices[language.toLowerCase()] ?? language.toLowerCase();
    if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(v)) throw new ProviderError(ID, `invalid voice name ${JSON.stringify(v)}`, { retryable: false });
    return v;
  }

  /**
   * Names espeak-ng accepts for `-v` (language codes, voice names, voice files; lower-case), from `espeak-ng --voices`,
   * listed once per provider. `null` when the list cannot be read (then voices are not checked up front).
   */
  listVoices(): Promise<Set<string> | null> {
    if (!this.knownVoices) {
      this.knownVoices = new Promise((resolve) => {
        execFile(this.bin, ['--voices'], { timeout: 5000 }, (err, stdout) => {
          if (err) return resolve(null);
          const names = new Set<string>();
          for (const line of stdout.split('\n').slice(1)) {
            const cols = line.trim().split(/\s+/);
            if (cols.length < 5) continue;
            for (const v of [cols[1], cols[3], cols[4], cols[4].split('/').pop()!]) names.add(v.toLowerCase());
          }
          resolve(names.size ? names : null);
        });
      });
    }
    return this.knownVoices;
  }

  async *synthesize(text: string, o: { voice?: string; language: string; signal: AbortSignal }): AsyncGenerator<AudioChunk> {
    o.signal.throwIfAborted();
    const voice = this.voiceFor(o.language, o.voice);
    if (text.trim() === '') return;
    // espeak-ng silently falls back to its default voice on an unknown -v: check first.
    const known = await this.listVoices();
    if (known && !known.has(voice.split('+')[0].toLowerCase())) {
      throw new ProviderError(ID, `unknown espeak-ng voice ${JSON.stringify(voice)} (language ${o.language})`, { retryable: false });
    }
    o.signal.throwIfAborted();
    const proc = spawn(this.bin, ['--stdout', '-v', voice, '-s', String(this.rate)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let spawnError: NodeJS.ErrnoException | null = null;
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => {
      proc.on('error', (e: NodeJS.ErrnoException) => { spawnError = e; resolve(null); });
      proc.on('close', (code) => resolve(code));
    });
    proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-1000); });
    proc.stdin.on('error', () => { /* EPIPE if espeak-ng died: reported via exit code */ });
    const onAbort = () => proc.kill('SIGKILL');
    o.signal.addEventListener('abort', onAbort, { once: true });
    proc.stdin.end(text);

    let header: WavHeader | null = null;
    let head = Buffer.alloc(0);
    let carry: Buffer = Buffer.alloc(0); // odd bytes of a partial sample frame
    let resampler: StreamingResampler | null = null;
    let remaining = Infinity; // data bytes still expected when the header gives a size
    const started = Date.now();
    let first = true;
    try {
      for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
        let data: Buffer;
        if (!header) {
          head = Buffer.concat([head, chunk]);
          try {
            header = readWavHeader(head);
          } catch (e) {
            throw new ProviderError(ID, `bad WAV from espeak-ng: ${(e as Error).message}`, { retryable: false, cause: e });
          }
          if (!header) continue;
          resampler = new StreamingResampler(header.sampleRate, OUT_RATE);
          if (header.dataBytes !== null) remaining = header.dataBytes;
          data = head.subarray(header.dataOffset);
        } else {
          data = chunk;
        }
        if (data.length > remaining) data = data.subarray(0, remaining);
        remaining -= data.length;
        const all = carry.length ? Buffer.concat([carry, data]) : data;
        const frameBytes = 2 * header.channels;
        const whole = all.length - (all.length % frameBytes);
        carry = Buffer.from(all.subarray(whole));
        const out = resampler!.push(pcm16leToMono(all.subarray(0, whole), header.channels));
        if (out.length) {
          if (first) { this.logger?.debug({ provider: ID, firstByteMs: Date.now() - started }, 'tts first audio'); first = false; }
          yield { encoding: 'mulaw', sampleRate: OUT_RATE, data: mulawEncode(out) };
        }
      }
      const code = await closed;
      o.signal.throwIfAborted();
      if (spawnError) {
        const e = spawnError as NodeJS.ErrnoException;
        const msg = e.code === 'ENOENT' ? `espeak-ng not found (${this.bin})` : `cannot start espeak-ng: ${e.message}`;
        throw new ProviderError(ID, msg, { retryable: false, cause: e });
      }
      if (code !== 0) {
        const unknownVoice = /voice|language/i.test(stderr);
        throw new ProviderError(ID, `espeak-ng exited with code ${code}: ${stderr.trim().slice(0, 200)}`, { retryable: !unknownVoice });
      }
      if (!header) throw new ProviderError(ID, 'espeak-ng produced no WAV header', { retryable: false });
      const tail = resampler!.flush();
      if (tail.length) yield { encoding: 'mulaw', sampleRate: OUT_RATE, data: mulawEncode(tail) };
    } catch (e) {
      if (o.signal.aborted) throw o.signal.reason;
      throw e;
    } finally {
      o.signal.removeEventListener('abort', onAbort);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  }
}
