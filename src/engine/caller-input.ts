import type { SttProvider, Transcript } from '../providers/types';
import type { Clock } from './clock';
import type { TurnEvent } from './turn-detector';

/** One utterance as the endpointer closed it. */
export type Utterance = Extract<TurnEvent, { type: 'utterance' }>;

/** The outcome of one transcription (never a rejection). `sttMs`: request → result on the session clock. */
export type Transcription = { ok: true; transcript: Transcript; sttMs: number } | { ok: false; error: unknown; sttMs: number };

/** An utterance the agent has not answered yet, with its transcription already under way. */
export interface PendingUtterance {
  u: Utterance;
  /** Clock ms when the caller stopped speaking (end of the last speech window) and when the end of turn was decided. */
  speechEndWall: number;
  decidedWall: number;
  transcription: Promise<Transcription>;
}

/**
 * The caller's words not yet answered. Every utterance the VAD accepted is transcribed as soon as it ends (the
 * transcription does not belong to any reply, so cancelling a reply never loses it), and stays pending until a reply
 * that answers it starts speaking ({@link take}). Utterances that arrive while a reply is still silent are answered
 * together with the ones before them, as one caller turn.
 */
export class CallerInput {
  private items: PendingUtterance[] = [];
  private readonly ac = new AbortController();

  constructor(
    private readonly stt: SttProvider,
    private readonly clock: Clock,
  ) {}

  /** Utterances waiting for an answer, oldest first. */
  get pending(): readonly PendingUtterance[] {
    return this.items;
  }

  /**
   * Queues `u` as pending, with its transcription: `speculative` when one was started on the same audio at the
   * caller's pause (see Speculator), else a new one (with the call's language as the hint).
   */
  add(u: Utterance, speechEndWall: number, decidedWall: number, languageHint: string, speculative?: Promise<Transcription> | null): PendingUtterance {
    const p: PendingUtterance = { u, speechEndWall, decidedWall, transcription: speculative ?? this.transcribe(u, languageHint) };
    this.items.push(p);
    return p;
  }

  /** Transcribes `u` without queuing it (a backchannel: kept in the transcript, never answered). */
  transcribe(u: Pick<Utterance, 'audio'>, languageHint: string, signal?: AbortSignal): Promise<Transcription> {
    const t0 = this.clock.now();
    return this.stt.transcribe(u.audio, { languageHint, signal: signal ? AbortSignal.any([this.ac.signal, signal]) : this.ac.signal }).then(
      (transcript) => ({ ok: true as const, transcript, sttMs: Math.round(this.clock.now() - t0) }),
      (error: unknown) => ({ ok: false as const, error, sttMs: Math.round(this.clock.now() - t0) }),
    );
  }

  /** Removes `items` from the pending ones: a reply answered them (or they had nothing to answer). */
  take(items: readonly PendingUtterance[]): void {
    this.items = this.items.filter((p) => !items.includes(p));
  }

  /** Cancels the transcriptions still running (the call is over and its deadline passed). */
  abort(reason: string): void {
    this.ac.abort(new Error(reason));
  }
}
