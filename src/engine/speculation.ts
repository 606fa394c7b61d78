import type { AgentProfile } from '../domain/agents';
import type { Transcription, Utterance } from './caller-input';
import type { TurnEvent } from './turn-detector';

type Pause = Extract<TurnEvent, { type: 'pause' }>;

/** Endpointing silences chosen from the words heard at a pause (ms). */
export interface AdaptiveEndpointing {
  /** The words so far end a sentence or a question ("…on Saturday?"). Default 400. */
  completeMs: number;
  /** Neither complete nor left hanging: the configured ENDPOINTING_SILENCE_MS. */
  defaultMs: number;
  /** The words stop mid-phrase ("…and", "um", "my number is"). Default 1200. */
  continuingMs: number;
}

/**
 * Words after which a phrase goes on, per ISO 639-1 language: conjunctions, hesitations, articles, possessives, "is"
 * and prepositions. A turn whose last word is one of them is waited for longer. Unknown languages use English.
 */
const CONTINUING: Record<string, ReadonlySet<string>> = {
  en: new Set(['and', 'but', 'or', 'so', 'because', 'um', 'uh', 'er', 'erm', 'hmm', 'like', 'the', 'a', 'an', 'my', 'your', 'our', 'is', 'are', 'was', 'to', 'of', 'for', 'with', 'in', 'on', 'at', 'that', 'which', 'if', 'then', 'also']),
  es: new Set(['y', 'pero', 'o', 'que', 'porque', 'eh', 'este', 'el', 'la', 'los', 'las', 'un', 'una', 'mi', 'su', 'es', 'de', 'del', 'con', 'para', 'en', 'si', 'entonces']),
  fr: new Set(['et', 'mais', 'ou', 'que', 'parce', 'euh', 'le', 'la', 'les', 'un', 'une', 'mon', 'ma', 'mes', 'est', 'de', 'du', 'des', 'avec', 'pour', 'en', 'si', 'alors']),
  de: new Set(['und', 'aber', 'oder', 'dass', 'weil', 'äh', 'ähm', 'der', 'die', 'das', 'ein', 'eine', 'mein', 'meine', 'ist', 'von', 'mit', 'für', 'in', 'wenn', 'dann']),
};

/**
 * The endpointing silence for a pause after `text` (ms): `completeMs` when it ends with `.`, `?` or `!` and its last
 * word does not leave the phrase open; `continuingMs` when its last word is a conjunction, hesitation, article,
 * possessive or preposition of `language` (English when unknown); otherwise `defaultMs`. A trailing comma or no
 * punctuation is not a sign either way (Moonshine writes a comma where the read sentence goes on).
 */
export function endpointingSilenceFor(text: string, language: string | null, p: AdaptiveEndpointing): number {
  const t = text.trim().replace(/["'»”’)\]]+$/u, '');
  const words = t.toLowerCase().match(/[\p{L}\p{N}'-]+/gu);
  if (!words?.length) return p.defaultMs;
  const last = words[words.length - 1];
  if ((CONTINUING[language ?? 'en'] ?? CONTINUING.en).has(last)) return p.continuingMs;
  return /[.?!]$/u.test(t) ? p.completeMs : p.defaultMs;
}

/**
 * The adaptive endpointing of one call of `agent`: its `endpointing` overrides (`completeMs`, `continuingMs`, and
 * `silenceMs` as the default silence) on top of the server's; null when the server has adaptive endpointing off.
 */
export function adaptiveEndpointingFor(agent: Pick<AgentProfile, 'endpointing'>, server: AdaptiveEndpointing | null): AdaptiveEndpointing | null {
  if (!server) return null;
  const a = agent.endpointing ?? {};
  return { completeMs: a.completeMs ?? server.completeMs, defaultMs: a.silenceMs ?? server.defaultMs, continuingMs: a.continuingMs ?? server.continuingMs };
}

/** Counters for logs and tests. */
export interface SpeculationStats {
  /** Pauses whose audio was sent to STT ahead of the end of turn. */
  started: number;
  /** End-of-turn utterances that used a speculative transcription. */
  used: number;
  /** Speculations dropped because the caller went on speaking (their requests aborted). */
  discarded: number;
}

interface Attempt {
  startMs: number;
  endMs: number;
  ac: AbortController;
  transcription: Promise<Transcription>;
}

/**
 * Speculative transcription: when the caller pauses (the detector's `pause`, ~200 ms of silence), the audio so far
 * goes to STT at once instead of after the full endpointing silence. If the turn then ends at that same pause (same
 * speech start and end), its utterance uses that transcription, usually already done; if the caller goes on, the
 * speculation is aborted and forgotten (the longer utterance is transcribed when it ends). With `adaptive`, the
 * speculative transcript also sets that pause's endpointing silence (see {@link endpointingSilenceFor}) through
 * `setSilence`.
 */
export class Speculator {
  private attempt: Attempt | null = null;
  private readonly counters: SpeculationStats = { started: 0, used: 0, discarded: 0 };

  constructor(
    private readonly transcribe: (audio: Pause['audio'], languageHint: string, signal: AbortSignal) => Promise<Transcription>,
    private readonly setSilence: ((startMs: number, endMs: number, silenceMs: number) => void) | null,
    private readonly adaptive: AdaptiveEndpointing | null,
  ) {}

  /** A pause: starts transcribing its audio (a previous, different speculation is discarded). */
  onPause(ev: Pause, languageHint: string): void {
    this.discard();
    const ac = new AbortController();
    const transcription = this.transcribe(ev.audio, languageHint, ac.signal);
    const attempt: Attempt = { startMs: ev.startMs, endMs: ev.endMs, ac, transcription };
    this.attempt = attempt;
    this.counters.started++;
    const { adaptive, setSilence } = this;
    if (adaptive && setSilence) {
      void transcription.then((t) => {
        if (this.attempt !== attempt || !t.ok || !t.transcript.text.trim()) return;
        setSilence(ev.startMs, ev.endMs, endpointingSilenceFor(t.transcript.text, t.transcript.language ?? languageHint, adaptive));
      });
    }
  }

  /**
   * The speculative transcription of `u` when the turn ended at the pause it was started on; otherwise null (and a
   * stale speculation is discarded). Each speculation is handed out once.
   */
  take(u: Pick<Utterance, 'startMs' | 'endMs'>): Promise<Transcription> | null {
    const a = this.attempt;
    if (!a) return null;
    if (a.startMs !== u.startMs || a.endMs !== u.endMs) {
      this.discard();
      return null;
    }
    this.attempt = null;
    this.counters.used++;
    return a.transcription;
  }

  /** Aborts a pending speculation (the call is over, or the caller went on). */
  discard(): void {
    if (!this.attempt) return;
    this.attempt.ac.abort(new Error('speculation discarded: the caller went on'));
    this.attempt = null;
    this.counters.discarded++;
  }

  stats(): SpeculationStats {
    return { ...this.counters };
  }
}
