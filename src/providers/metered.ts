import type { Pcm } from '../audio/types';
import type { UsageSink } from '../domain/usage';
import type { AudioChunk, ChatRequest, LlmDelta, LlmProvider, SttOptions, SttProvider, SynthesizeOptions, Transcript, TtsProvider } from './types';

/**
 * Usage metering of one provider instance (issue 12 "Usage and cost"). The registry wraps each vendor/local provider
 * in one of these BELOW its timeout/retry/breaker layer and the fallback chain, so what is counted is what the
 * provider that actually served consumed, reported with its own `id` to the call's sink passed in the request
 * options (`usage`). Counting happens once per request (an utterance, a sentence, an LLM round), never per audio
 * frame; without a sink nothing is counted.
 */

/**
 * STT: on a successful transcription, reports `stt_audio` = the utterance's length in seconds
 * (`samples.length / sampleRate`). A failed or aborted request reports nothing.
 */
export class MeteredStt implements SttProvider {
  readonly id: string;
  constructor(readonly inner: SttProvider) {
    this.id = inner.id;
  }

  async transcribe(audio: Pcm, o: SttOptions): Promise<Transcript> {
    const t = await this.inner.transcribe(audio, o);
    if (o.usage && audio.sampleRate > 0) o.usage({ provider: this.id, kind: 'stt_audio', quantity: audio.samples.length / audio.sampleRate });
    return t;
  }

  async warmup(): Promise<void> {
    await this.inner.warmup?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * TTS: reports `tts_characters` = `text.length` (UTF-16 code units, what ElevenLabs and OpenAI count as characters
 * for Latin scripts) once the provider produced its first non-empty audio chunk — the request was served and billed,
 * even if the caller barges in before the rest is played. A request that fails before any audio reports nothing.
 */
export class MeteredTts implements TtsProvider {
  readonly id: string;
  constructor(readonly inner: TtsProvider) {
    this.id = inner.id;
  }

  async *synthesize(text: string, o: SynthesizeOptions): AsyncGenerator<AudioChunk> {
    let counted = !o.usage;
    for await (const chunk of this.inner.synthesize(text, o)) {
      if (!counted && chunk.data.length) {
        counted = true;
        o.usage?.({ provider: this.id, kind: 'tts_characters', quantity: text.length });
      }
      yield chunk;
    }
  }
}

/**
 * LLM: turns the provider's `usage` delta (prompt and completion tokens the vendor reported) into `llm_prompt` and
 * `llm_completion` records and does not pass it on; every other delta passes through unchanged. A provider that
 * reports no usage (the local responder: no tokens) is not counted.
 */
export class MeteredLlm implements LlmProvider {
  readonly id: string;
  constructor(readonly inner: LlmProvider) {
    this.id = inner.id;
  }

  async *chat(req: ChatRequest, signal: AbortSignal): AsyncGenerator<LlmDelta> {
    for await (const d of this.inner.chat(req, signal)) {
      if (d.type !== 'usage') {
        yield d;
        continue;
      }
      report(req.usage, this.id, d);
    }
  }
}

function report(sink: UsageSink | undefined, provider: string, d: Extract<LlmDelta, { type: 'usage' }>): void {
  if (!sink) return;
  if (d.promptTokens > 0) sink({ provider, kind: 'llm_prompt', quantity: d.promptTokens });
  if (d.completionTokens > 0) sink({ provider, kind: 'llm_completion', quantity: d.completionTokens });
}
