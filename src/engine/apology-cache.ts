import type { Logger } from 'pino';
import { mulawDecode, mulawEncode } from '../audio/mulaw';
import { resample } from '../audio/resample';
import type { AudioChunk, TtsProvider } from '../providers/types';
import { OUTAGE_APOLOGY } from './phrases';

/** Options of {@link ApologyCache.build}. */
export interface ApologyCacheOptions {
  /** The synthesizer, normally the offline espeak-ng one (always available, no network). */
  tts: TtsProvider;
  /** ISO 639-1 languages to prepare; English is always added (it is the fallback). Default en, es, fr, de. */
  languages?: string[];
  /** Text per language. Default {@link OUTAGE_APOLOGY}. */
  phrases?: Record<string, string>;
  /** Time allowed to synthesize one phrase (ms). Default 10000. */
  timeoutMs?: number;
  logger?: Logger;
}

const RATE = 8000;

/** Converts one TTS chunk to 8 kHz mu-law bytes (mu-law 8 kHz chunks pass through unchanged). */
function toMulaw8k(c: AudioChunk): Uint8Array {
  if (c.encoding === 'mulaw' && c.sampleRate === RATE) return c.data;
  const samples =
    c.encoding === 'mulaw'
      ? mulawDecode(c.data)
      : new Int16Array(c.data.buffer.slice(c.data.byteOffset, c.data.byteOffset + (c.data.byteLength & ~1)));
  const pcm = c.sampleRate === RATE ? { samples, sampleRate: RATE } : resample({ samples, sampleRate: c.sampleRate }, RATE);
  return mulawEncode(pcm.samples);
}

/**
 * Pre-synthesized "sorry, press 0 or say 'agent'" audio ({@link OUTAGE_APOLOGY}) per language, kept in memory as
 * raw 8 kHz mu-law (Twilio's media format), so the engine can play it at once when every provider of a turn has
 * failed — no provider call on that path. Built once at startup with {@link ApologyCache.build}.
 */
export class ApologyCache {
  private constructor(
    private readonly audio: ReadonlyMap<string, Uint8Array>,
    private readonly phrases: Readonly<Record<string, string>>,
  ) {}

  /**
   * Synthesizes the apology for every language (one after the other) and keeps the bytes. A language that fails (or has
   * no phrase) is logged and left out; `get` then serves English for it.
   * @throws Error when the English apology cannot be synthesized (there would be nothing to fall back to).
   */
  static async build(o: ApologyCacheOptions): Promise<ApologyCache> {
    const phrases = o.phrases ?? OUTAGE_APOLOGY;
    const languages = [...new Set(['en', ...(o.languages ?? ['en', 'es', 'fr', 'de'])].map((l) => l.toLowerCase()))];
    const timeoutMs = o.timeoutMs ?? 10_000;
    const audio = new Map<string, Uint8Array>();
    let englishError: unknown;
    // One language at a time: the caches are built side by side at start-up, and a dozen espeak-ng processes at
    // once on a busy machine made single phrases miss their timeout.
    for (const language of languages) {
      const text = phrases[language];
      if (!text) {
        o.logger?.warn({ language }, 'no apology phrase for language; English will be used');
        continue;
      }
      try {
        const parts: Uint8Array[] = [];
        for await (const chunk of o.tts.synthesize(text, { language, signal: AbortSignal.timeout(timeoutMs) })) parts.push(toMulaw8k(chunk));
        const bytes = Buffer.concat(parts);
        if (!bytes.length) throw new Error('no audio produced');
        audio.set(language, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      } catch (err) {
        if (language === 'en') englishError = err;
        o.logger?.warn({ language, provider: o.tts.id, err: err instanceof Error ? err.message : String(err) }, 'apology synthesis failed');
      }
    }
    if (!audio.has('en')) {
      throw new Error(`ApologyCache: cannot synthesize the English apology with ${o.tts.id}: ${englishError instanceof Error ? englishError.message : String(englishError)}`);
    }
    o.logger?.info({ languages: [...audio.keys()], provider: o.tts.id }, 'apology audio cached');
    return new ApologyCache(audio, { ...phrases });
  }

  /** 8 kHz mu-law bytes of the apology in `language` (ISO 639-1; a region such as `es-MX` is ignored), else English. */
  get(language: string): Uint8Array {
    return this.audio.get(this.resolve(language))!;
  }

  /** The text of the recording {@link get} returns for `language` (for the transcript). */
  text(language: string): string {
    return this.phrases[this.resolve(language)];
  }

  /** The language whose recording serves `language`: itself when cached, else `en`. */
  resolve(language: string): string {
    const l = language.toLowerCase().split(/[-_]/)[0];
    return this.audio.has(l) ? l : 'en';
  }

  /** Whether `language` has its own recording (otherwise {@link get} returns English). */
  has(language: string): boolean {
    return this.audio.has(language.toLowerCase().split(/[-_]/)[0]);
  }

  /** Languages with a recording. */
  get languages(): string[] {
    return [...this.audio.keys()];
  }
}
