import type OpenAI from 'openai';
import { mulawEncode } from '../../audio/mulaw';
import { StreamingResampler } from '../../audio/resample';
import { PHONE_RATE } from '../../audio/frames';
import { ProviderError } from '../errors';
import { languageName } from '../llm/prompt';
import { createOpenAiClient, type OpenAiClientOptions } from '../openai/client';
import { malformedResponse, mapOpenAiError } from '../openai/errors';
import type { AudioChunk, SynthesizeOptions, TtsProvider } from '../types';

/** Options of {@link OpenAiTts}: the client options plus model and voice. */
export interface OpenAiTtsOptions extends OpenAiClientOptions {
  /** `gpt-4o-mini-tts` (default), `tts-1`, `tts-1-hd`. */
  model?: string;
  /** Default voice (`alloy`, `ash`, `coral`, `nova`, …) when the request has no `voices.openai`. Default `alloy`. */
  voice?: string;
  /** Extra style instructions (gpt-4o-mini-tts only), appended after the language instruction. */
  instructions?: string;
}

const ID = 'openai.tts';
/** `response_format: 'pcm'` is raw 24 kHz signed 16-bit little-endian mono (OpenAI text-to-speech guide). */
export const OPENAI_PCM_RATE = 24_000;
/** The API's input limit (characters). */
export const OPENAI_TTS_MAX_INPUT = 4096;

/**
 * Text-to-speech with OpenAI (`POST /v1/audio/speech`, `response_format: 'pcm'`) through the official SDK
 * (`audio.speech.create`). The response body (24 kHz PCM16 LE) is read as it streams in, resampled to 8 kHz with
 * {@link StreamingResampler} (an odd byte at a chunk boundary is carried to the next chunk) and mu-law encoded;
 * yields `{ encoding: 'mulaw', sampleRate: 8000, data }` per received body chunk (≈ 1 output byte per 3 input samples).
 * Voice: `o.voices.openai`, else the configured voice. Models other than `tts-1`/`tts-1-hd` get `instructions`
 * "Speak in <language name>." (plus the configured instructions). Empty text yields nothing. Abort cancels the
 * request/body and throws the signal's reason; stopping the iteration early cancels the body.
 * @throws ProviderError — see ../openai/errors.ts; not retryable for text over 4096 characters or a JSON (non-audio)
 *   200 response.
 */
export class OpenAiTts implements TtsProvider {
  readonly id = ID;
  readonly model: string;
  private readonly voice: string;
  private readonly instructions?: string;
  private readonly client: OpenAI;
  private readonly apiKey: string;

  constructor(o: OpenAiTtsOptions) {
    this.client = createOpenAiClient(o);
    this.apiKey = o.apiKey;
    this.model = o.model ?? 'gpt-4o-mini-tts';
    this.voice = o.voice ?? 'alloy';
    this.instructions = o.instructions;
  }

  /** Whether the model accepts `instructions` (every model but tts-1 / tts-1-hd). */
  supportsInstructions(): boolean {
    return !/^tts-1(-hd)?(-\d+)?$/.test(this.model);
  }

  async *synthesize(text: string, o: SynthesizeOptions): AsyncGenerator<AudioChunk> {
    const { signal } = o;
    signal.throwIfAborted();
    if (text.trim() === '') return;
    if (text.length > OPENAI_TTS_MAX_INPUT) {
      throw new ProviderError(ID, `text of ${text.length} characters exceeds the ${OPENAI_TTS_MAX_INPUT}-character limit`, { retryable: false });
    }
    const fail = (e: unknown) => mapOpenAiError(ID, e, { signal, secrets: [this.apiKey] });
    const instructions = this.supportsInstructions()
      ? [`Speak in ${languageName(o.language)}.`, this.instructions].filter(Boolean).join(' ')
      : undefined;
    let res: Response;
    try {
      res = await this.client.audio.speech.create(
        { model: this.model, voice: o.voices?.openai ?? this.voice, input: text, response_format: 'pcm', ...(instructions ? { instructions } : {}) },
        { signal },
      );
    } catch (e) {
      throw fail(e);
    }
    if (/^application\/json|^text\//i.test(res.headers.get('content-type') ?? '')) {
      await res.body?.cancel().catch(() => undefined);
      throw malformedResponse(ID, `expected PCM audio, got ${res.headers.get('content-type')}`, res.status);
    }
    if (!res.body) throw malformedResponse(ID, 'response without a body', res.status);

    const reader = res.body.getReader();
    const resampler = new StreamingResampler(OPENAI_PCM_RATE, PHONE_RATE);
    let carry: number | null = null; // low byte of a sample split across chunks
    let done = false;
    try {
      while (true) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          throw fail(e);
        }
        if (r.done) break;
        signal.throwIfAborted();
        const { samples, rest } = pcm16le(r.value, carry);
        carry = rest;
        const out = resampler.push(samples);
        if (out.length) yield { encoding: 'mulaw', sampleRate: PHONE_RATE, data: mulawEncode(out) };
      }
      done = true;
    } finally {
      if (!done) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
    signal.throwIfAborted();
    const tail = resampler.flush();
    if (tail.length) yield { encoding: 'mulaw', sampleRate: PHONE_RATE, data: mulawEncode(tail) };
  }
}

/**
 * Little-endian PCM16 samples of `bytes`, with `carry` (a byte left over from the previous chunk) in front.
 * @returns the samples and the new left-over byte (null when the total was even).
 */
export function pcm16le(bytes: Uint8Array, carry: number | null): { samples: Int16Array; rest: number | null } {
  const total = bytes.length + (carry === null ? 0 : 1);
  const n = total >> 1;
  const samples = new Int16Array(n);
  const at = (k: number) => (carry === null ? bytes[k] : k === 0 ? carry : bytes[k - 1]);
  for (let i = 0; i < n; i++) {
    const v = at(2 * i) | (at(2 * i + 1) << 8);
    samples[i] = v >= 0x8000 ? v - 0x10000 : v;
  }
  return { samples, rest: total & 1 ? at(total - 1) : null };
}
