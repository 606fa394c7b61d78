import type { AudioChunk, TtsProvider } from '../providers/types';
import type { TurnInput, TurnTimings } from '../domain/calls';
import type { AgentProfile } from '../domain/agents';
import { systemClock, type Clock } from './clock';
import { MULAW_BYTES_PER_MS, type HeardSpeech, type Playout } from './playout';
import { DeadAirGuard } from './dead-air';

/**
 * What one utterance produced: what the caller heard, and when (ms on the session clock), plus a provider error.
 * `unheard` is the text the agent had for the utterance after the heard part when it was cut — the playout ledger's
 * rest, then the segment waiting to go out, then the caller's unsent text (see {@link Speaker.heardOf}); '' when
 * `complete`.
 */
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
  /** Clock time (ms) when the caller stopped speaking, and when the end of turn was decided. */
  speechEndWall: number;
  decidedWall: number;
  guard?: DeadAirGuard | null;
  /** Called once, when the first synthesized audio of the reply is about to go out (a cached filler does not count). */
  onFirstAudio?: () => void;
  /** The reply's text not yet handed to `say` (segments still queued, the sentence the LLM is writing), in order. */
  unsent?: () => readonly string[];
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
 *
 * What was heard of a cut utterance is read at the moment of the cut (the abort), before any later turn can begin
 * a new utterance on the same playout.
 */
export class Speaker {
  private turnNo = 0;
  /** A segment `say` has taken from its input but not yet put on the playout (it waits for the dead-air filler). */
  private waiting: { no: number; text: string } | null = null;

  /** @param t0 `clock.now()` at the start of the session (the zero of turn times). */
  constructor(
    private readonly playout: Playout,
    private readonly tts: TtsProvider,
    private readonly agent: AgentProfile,
    private readonly t0: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts a new utterance on the playout. @returns its number (see {@link heardOf}). */
  begin(): number {
    return this.playout.beginUtterance();
  }

  /**
   * What the caller has heard of utterance `no` so far, or null when another utterance has begun since. `unheard` is
   * what the agent had for it beyond that, in speaking order: the playout's unheard text, the segment waiting to go
   * out, then `unsent()` (text the caller of `say` has not handed over yet). Any such text makes it not `complete`
   * (the caller cut in before the agent had said all it had, even if every segment sent so far had played).
   */
  heardOf(no: number, unsent?: () => readonly string[]): Spoken | null {
    if (this.playout.utterance !== no) return null;
    const heard = this.playout.heard();
    const waiting = this.waiting?.no === no ? this.waiting.text : '';
    const more = [waiting, ...(unsent?.() ?? [])].map((t) => t.trim()).filter(Boolean);
    const unheard = [heard.unheard, ...more].filter(Boolean).join(' ');
    const first = this.playout.firstSentAt;
    const startMs = first === null ? Math.max(0, this.clock.now() - this.t0) : first - this.t0;
    return { ...heard, complete: heard.complete && !more.length, unheard, startMs, endMs: startMs + heard.bytes / MULAW_BYTES_PER_MS, error: null, synthesized: false };
  }

  /**
   * Watches utterance `no` for a cut: when `signal` aborts, what the caller had heard is read at that moment
   * (synchronously, in the abort listener — the playout was stopped just before, and no later turn has begun a new
   * utterance yet), and so is its unheard text (with `unsent()`, see {@link heardOf}) — what the agent had at the cut,
   * not what a provider still produced after it. `heard()` is that snapshot once aborted, else what has been heard so
   * far (null when another utterance has begun); `dispose()` removes the listener.
   */
  watch(no: number, signal: AbortSignal, unsent?: () => readonly string[]): { heard(): Spoken | null; dispose(): void } {
    let cut: Spoken | null = null;
    const onAbort = () => (cut = this.heardOf(no, unsent));
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      heard: () => (signal.aborted ? cut : this.heardOf(no, unsent)),
      dispose: () => signal.removeEventListener('abort', onAbort),
    };
  }

  /**
   * Speaks `segments` in `language` (each: TTS → playout → mark), then waits until it has all played or `signal`
   * aborts. Without `t` a new utterance begins; with `t` (a reply) the utterance begun by {@link begin} continues
   * (a dead-air filler may already be in it) and ttsFirstByteMs / replyLatencyMs / turnOverheadMs (and fillerPlayed)
   * are filled at the first audio. Never throws for provider errors: they are returned in `error`. A cut leaves
   * in `unheard` the segments not yet spoken (of an array; of a stream, what `t.unsent` reports).
   */
  async say(segments: AsyncIterable<string> | string[], language: string, signal: AbortSignal, t?: ReplyTiming): Promise<Spoken> {
    const no = t ? this.playout.utterance : this.begin();
    let taken = 0;
    const list = Array.isArray(segments) ? segments : null;
    const watch = this.watch(no, signal, t?.unsent ?? (list ? () => list.slice(taken) : undefined));
    const turn = ++this.turnNo;
    const guard = t?.guard ?? null;
    let seg = 0;
    let firstAudio = false;
    let synthesized = false;
    const noteAudio = async function* (audio: AsyncIterable<AudioChunk>): AsyncGenerator<AudioChunk> {
      for await (const c of audio) {
        if (c.data.length && !synthesized) {
          synthesized = true;
          t?.onFirstAudio?.();
        }
        yield c;
      }
    };
    let error: unknown = null;
    const voice = this.agent.voices[language];
    const tv = this.agent.ttsVoices;
    const voices = { elevenlabs: tv?.elevenlabs?.[language], openai: tv?.openai?.[language], local: tv?.local?.[language] ?? voice };
    try {
      for await (const text of segments) {
        taken++;
        if (signal.aborted) break;
        this.waiting = { no, text };
        if (guard?.playing) await guard.playing; // the filler went out while STT / the LLM were slow
        const ttsStart = this.clock.now();
        let audio = noteAudio(this.tts.synthesize(text, { voice, voices, language, signal }));
        if (guard && !guard.audioStarted && !guard.used) {
          guard.inSegment = true;
          audio = guard.guardFirstChunk(audio);
        }
        const playing = this.playout.playSegment(audio, { mark: `turn-${turn}-seg-${++seg}`, text }, signal);
        this.waiting = null; // in the playout's ledger from here on
        const r = await playing;
        if (guard) {
          guard.inSegment = false;
          if (r.firstAudioAt !== null) guard.audioStarted = true;
        }
        if (r.firstAudioAt !== null && !firstAudio) {
          firstAudio = true;
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
    } finally {
      if (this.waiting?.no === no) this.waiting = null;
      watch.dispose();
    }
    if (guard?.playing) await guard.playing;
    if (t && guard?.used) t.timings.fillerPlayed = true;
    const heard: Spoken = watch.heard() ?? empty(this.clock.now() - this.t0);
    return { ...heard, error, synthesized };
  }

  /** Plays cached audio (`phrases` in `language`) as its own utterance, with no TTS, and waits until it has played. */
  async playCached(phrases: CachedPhrases, language: string, kind: string, signal: AbortSignal): Promise<Spoken> {
    const watch = this.watch(this.begin(), signal);
    try {
      await this.playout.playSegment(once(phrases.get(language)), { mark: `turn-${++this.turnNo}-${kind}`, text: phrases.text(language) }, signal);
      if (!signal.aborted) await this.playout.drained(signal);
    } finally {
      watch.dispose();
    }
    return watch.heard() ?? empty(this.clock.now() - this.t0);
  }

  /**
   * Arms the dead-air filler of the coming reply (see {@link DeadAirGuard}): at `deadlineWall` (clock ms) without
   * reply audio the cached filler plays. Call {@link begin} first; pass the guard to `say` with a {@link ReplyTiming}.
   */
  armFiller(filler: CachedPhrases, language: string, deadlineWall: number, signal: AbortSignal, onFire?: () => void): DeadAirGuard {
    const bytes = filler.get(language);
    const mark = `turn-${this.turnNo + 1}-filler`; // the reply about to be spoken is the next turn
    const play = () => {
      onFire?.();
      return this.playout.playSegment(once(bytes), { mark, text: filler.text(language) }, signal).catch(() => undefined);
    };
    return new DeadAirGuard(deadlineWall, bytes, play, this.clock);
  }
}

function empty(atMs: number): Spoken {
  const at = Math.max(0, atMs);
  return { text: '', complete: false, unheard: '', bytes: 0, startMs: at, endMs: at, error: null, synthesized: false };
}

async function* once(data: Uint8Array) {
  yield { encoding: 'mulaw' as const, sampleRate: 8000, data };
}

/** An agent turn as stored: what the caller heard of `s` (`interrupted` when cut, with the rest as `unheardText`). */
export function agentTurn(s: Spoken, language: string, intent: string | null, timings?: TurnTimings): TurnInput {
  const unheardText = !s.complete && s.unheard ? s.unheard : null;
  return { role: 'agent', text: s.text, language, startMs: s.startMs, endMs: s.endMs, intent, interrupted: !s.complete, unheardText, timings };
}
