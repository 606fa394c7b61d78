import type { AudioChunk, TtsProvider } from '../providers/types';
import type { TurnTimings } from '../domain/calls';
import type { AgentProfile } from './conversation';
import { MULAW_BYTES_PER_MS, type HeardSpeech, type Playout } from './playout';
import { DeadAirGuard } from './dead-air';

/** What one utterance produced: what the caller heard, and when (ms on the session clock), plus a provider error. */
export interface Spoken extends HeardSpeech {
  startMs: number;
  endMs: number;
  /** A TTS failure after which the utterance stopped (what was heard before it stays valid), else null. */
  error: unknown;
  /** True when the TTS produced audio for the segments (a cached filler alone does not count). */
  synthesized: boolean;
}

/** Reply-turn context of {@link Speaker.say}: where to write the first-audio timings, and the dead-air guard. */
export interface ReplyTiming {
  timings: TurnTimings;
  /** performance.now() when the caller stopped speaking, and when the end of turn was decided. */
  speechEndWall: number;
  decidedWall: number;
  guard?: DeadAirGuard | null;
  /** The utterance was already begun (a filler may be playing): do not reset the playout ledger. */
  continueUtterance?: boolean;
}

/** Cached 8 kHz mu-law phrases per language (ApologyCache). */
export interface CachedPhrases {
  get(language: string): Uint8Array;
  text(language: string): string;
}

/**
 * The agent's voice in one call: turns text segments into audio through the TTS (voice per provider family and
 * language from the agent), streams it with {@link Playout} (one mark per segment, `turn-N-seg-K`), waits until
 * Twilio has played it, and reports what the caller heard. Also plays cached audio (apology, filler) without TTS.
 */
export class Speaker {
  private turnNo = 0;

  /** @param t0 performance.now() at the start of the session (the session clock's zero). */
  constructor(
    private readonly playout: Playout,
    private readonly tts: TtsProvider,
    private readonly agent: AgentProfile,
    private readonly t0: number,
  ) {}

  /**
   * Speaks `segments` in `language` as one utterance (each: TTS → playout → mark), then waits until it has all
   * played or `signal` aborts. With `t`, fills ttsFirstByteMs / replyLatencyMs / turnOverheadMs (and fillerPlayed)
   * at the first audio. Never throws for provider errors: they are returned in `error`.
   */
  async say(segments: AsyncIterable<string> | string[], language: string, signal: AbortSignal, t?: ReplyTiming): Promise<Spoken> {
    const turn = ++this.turnNo;
    const guard = t?.guard ?? null;
    if (!t?.continueUtterance) this.playout.beginUtterance();
    let startMs = -1;
    let seg = 0;
    let synthesized = false;
    const noteAudio = async function* (audio: AsyncIterable<AudioChunk>): AsyncGenerator<AudioChunk> {
      for await (const c of audio) {
        if (c.data.length) synthesized = true;
        yield c;
      }
    };
    let error: unknown = null;
    const voice = this.agent.voices[language];
    const tv = this.agent.ttsVoices;
    const voices = { elevenlabs: tv?.elevenlabs?.[language], openai: tv?.openai?.[language], local: tv?.local?.[language] ?? voice };
    try {
      for await (const text of segments) {
        if (signal.aborted) break;
        if (guard?.playing) await guard.playing; // the filler went out while STT / the LLM were slow
        const ttsStart = performance.now();
        let audio = noteAudio(this.tts.synthesize(text, { voice, voices, language, signal }));
        if (guard && !guard.audioStarted && !guard.used) {
          guard.inSegment = true;
          audio = guard.guardFirstChunk(audio);
        }
        const r = await this.playout.playSegment(audio, { mark: `turn-${turn}-seg-${++seg}`, text }, signal);
        if (guard) {
          guard.inSegment = false;
          if (r.firstAudioAt !== null) guard.audioStarted = true;
        }
        if (r.firstAudioAt !== null && startMs < 0) {
          startMs = r.firstAudioAt - this.t0;
          if (t) {
            t.timings.ttsFirstByteMs = Math.round(r.firstAudioAt - ttsStart);
            t.timings.replyLatencyMs = Math.round(r.firstAudioAt - t.speechEndWall);
            t.timings.turnOverheadMs = Math.round(r.firstAudioAt - t.decidedWall);
          }
        }
        if (r.aborted) break;
      }
      if (!signal.aborted) await this.playout.drained(signal);
    } catch (err) {
      if (!signal.aborted) error = err;
    }
    if (guard?.playing) await guard.playing;
    if (t && guard?.used) t.timings.fillerPlayed = true;
    const heard = this.playout.heard();
    const s = Math.max(0, startMs);
    return { ...heard, startMs: s, endMs: s + heard.bytes / MULAW_BYTES_PER_MS, error, synthesized };
  }

  /** Plays cached audio (`phrases` in `language`) as its own utterance, with no TTS, and waits until it has played. */
  async playCached(phrases: CachedPhrases, language: string, kind: string, signal: AbortSignal): Promise<Spoken> {
    this.playout.beginUtterance();
    const startMs = performance.now() - this.t0;
    await this.playout.playSegment(once(phrases.get(language)), { mark: `turn-${++this.turnNo}-${kind}`, text: phrases.text(language) }, signal);
    if (!signal.aborted) await this.playout.drained(signal);
    const heard = this.playout.heard();
    return { ...heard, startMs, endMs: startMs + heard.bytes / MULAW_BYTES_PER_MS, error: null, synthesized: false };
  }

  /**
   * Arms the dead-air filler of the coming reply (see {@link DeadAirGuard}): at `deadlineWall` without reply audio
   * the cached filler plays. Call `playout.beginUtterance()` first; pass the guard to `say` with `continueUtterance`.
   */
  armFiller(filler: CachedPhrases, language: string, deadlineWall: number, signal: AbortSignal, onFire?: () => void): DeadAirGuard {
    const bytes = filler.get(language);
    const mark = `turn-${this.turnNo + 1}-filler`; // the reply about to be spoken is the next turn
    return new DeadAirGuard(deadlineWall, bytes, () => {
      onFire?.();
      return this.playout.playSegment(once(bytes), { mark, text: filler.text(language) }, signal).catch(() => undefined);
    });
  }
}

async function* once(data: Uint8Array) {
  yield { encoding: 'mulaw' as const, sampleRate: 8000, data };
}
