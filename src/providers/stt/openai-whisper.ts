import type OpenAI from 'openai';
import { toFile } from 'openai';
import { z } from 'zod';
import type { Pcm } from '../../audio/types';
import { encodeWav } from '../../audio/wav';
import { createOpenAiClient, type OpenAiClientOptions } from '../openai/client';
import { malformedResponse, mapOpenAiError } from '../openai/errors';
import type { SttOptions, SttProvider, Transcript } from '../types';
import { whisperLanguageToIso6391 } from './whisper-languages';

/** Options of {@link OpenAiWhisperStt}: the client options plus the model. */
export interface OpenAiWhisperOptions extends OpenAiClientOptions {
  /** `whisper-1` (default), `gpt-4o-transcribe`, `gpt-4o-mini-transcribe`, or a self-hosted Whisper model name. */
  model?: string;
  /**
   * Response format. Default: `json` for the `gpt-4o-*` transcribe models (they support nothing richer),
   * `verbose_json` for every other model (Whisper: reports the detected language and per-segment log-probabilities).
   */
  responseFormat?: 'json' | 'verbose_json';
}

const ID = 'openai.stt';
/** OpenAI rejects audio shorter than 0.1 s ("Audio file is too short"); shorter utterances are not sent. */
const MIN_AUDIO_S = 0.1;

const jsonBody = z.object({ text: z.string() });
const verboseBody = z.object({
  text: z.string(),
  language: z.string().nullish(),
  segments: z.array(z.object({ avg_logprob: z.number().optional() })).nullish(),
});

/**
 * Speech-to-text with OpenAI's transcription API (`POST /v1/audio/transcriptions`, multipart/form-data) through the
 * official SDK (`audio.transcriptions.create`). The utterance is sent as a 16-bit mono WAV file at its own sample
 * rate, with `model`, `response_format` and — when `languageHint` is given — `language` (ISO 639-1).
 * - `verbose_json` (whisper-1): `language` (an English name such as `"spanish"`) is mapped to ISO 639-1 (`es`);
 *   `confidence` = exp(mean of the segments' `avg_logprob`), in 0..1, when segments are present.
 * - `json` (gpt-4o-transcribe, gpt-4o-mini-transcribe): text only; no language, no confidence.
 * Audio shorter than 0.1 s returns `{ text: '' }` without a request. Abort rejects with the signal's reason.
 * @throws ProviderError (see ../openai/errors.ts for which failures are retryable).
 */
export class OpenAiWhisperStt implements SttProvider {
  readonly id = ID;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly format: 'json' | 'verbose_json';

  constructor(o: OpenAiWhisperOptions) {
    this.client = createOpenAiClient(o);
    this.apiKey = o.apiKey;
    this.model = o.model ?? 'whisper-1';
    this.format = o.responseFormat ?? (/^gpt-4o/.test(this.model) ? 'json' : 'verbose_json');
  }

  async transcribe(audio: Pcm, o: SttOptions): Promise<Transcript> {
    o.signal.throwIfAborted();
    if (audio.samples.length < audio.sampleRate * MIN_AUDIO_S) return { text: '' };
    const language = o.languageHint?.trim().toLowerCase().split(/[-_]/)[0] || undefined;
    let body: unknown;
    try {
      const file = await toFile(encodeWav(audio), 'utterance.wav', { type: 'audio/wav' });
      body = await this.client.audio.transcriptions.create(
        { file, model: this.model, response_format: this.format, ...(language ? { language } : {}) },
        { signal: o.signal },
      );
    } catch (e) {
      throw mapOpenAiError(ID, e, { signal: o.signal, secrets: [this.apiKey] });
    }
    if (this.format === 'json') {
      const r = jsonBody.safeParse(body);
      if (!r.success) throw malformedResponse(ID, 'transcription without a "text" string');
      return { text: r.data.text.trim() };
    }
    const r = verboseBody.safeParse(body);
    if (!r.success) throw malformedResponse(ID, 'verbose_json transcription without a "text" string');
    const logprobs = (r.data.segments ?? []).map((s) => s.avg_logprob).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const confidence = logprobs.length ? Math.min(1, Math.exp(logprobs.reduce((a, b) => a + b, 0) / logprobs.length)) : undefined;
    return { text: r.data.text.trim(), language: whisperLanguageToIso6391(r.data.language), confidence };
  }
}
