import { optOutPhraseIn } from '../domain/call-phrases';
import type { PendingUtterance } from './caller-input';
import { machinePhraseIn } from './machine-detection';

/** How an opt-out was asked for. */
export type OptOutVia = 'phrase' | 'dtmf' | 'tool';

/**
 * Where a call's outcomes are written (the database, in production: src/db/outbound-outcomes.ts, bound to the call
 * by the session factory). Rejections are reported as provider errors and never end the session.
 */
export interface CallOutcomes {
  /** The callee asked not to be called again: DNC entry (call + utterance as provenance), contact opted out, event. */
  optOut(o: { utterance: string | null; via: OptOutVia }): Promise<void>;
  /** A machine found by the transcript check (Twilio's AMD results are stored by the AMD webhook). */
  machine(answeredBy: string, source: 'transcript'): Promise<void>;
  /** The voicemail message was spoken: `played` = all of it played (its marks came back). */
  voicemail(played: boolean): Promise<void>;
  /** A callback asked for at instant `at` (`said`: the caller's words). @returns false when nothing could be booked. */
  callback(at: Date, said: string): Promise<boolean>;
}

/** What makes a session an outbound call (absent: inbound, the agent greets at once). */
export interface OutboundOptions {
  /** How long the agent waits for the callee's first words ("hello?") before its greeting (ms; OUTBOUND_GREETING_WAIT_MS). */
  greetingWaitMs: number;
  /** The voicemail message with the contact's variables filled in, or null (a machine is hung up on). */
  voicemailMessage: string | null;
  /** An AMD result stored before the stream started (it is acted on at start), or null. */
  answeredBy: string | null;
  /** IANA zone in which times the callee says are read ("tomorrow at three"), or null (UTC). */
  timeZone: string | null;
}

/** The session's side of {@link OutboundFlow}. */
export interface OutboundHost {
  /** Queues the agent's greeting. */
  greet(): void;
  /** The callee's first words, answered by the greeting: stored as a caller turn and not answered again. */
  consume(p: PendingUtterance, text: string): void;
  /** The callee is a machine (`answeredBy` as Twilio names it). */
  machine(answeredBy: string, source: 'twilio-amd' | 'transcript'): void;
  optOut(via: OptOutVia, utterance: string | null): void;
  closing(): boolean;
}

/**
 * Utterances starting within this many ms of the stream's start are checked for machine phrases (a greeting may come
 * in pieces: "Hi, this is Sam." … "Leave a message after the tone.").
 */
export const MACHINE_CHECK_MS = 10_000;

/** AnsweredBy values after which a voicemail message is left (Twilio AMD with DetectMessageEnd). */
const MACHINE_END = new Set(['machine_end_beep', 'machine_end_silence', 'machine_end_other']);

/**
 * The start of a call and its caller-side outcomes. Inbound: the greeting at once. Outbound: the agent waits for
 * the callee's first utterance (or `greetingWaitMs`) before greeting; the utterances starting in the first
 * {@link MACHINE_CHECK_MS} are checked against voicemail / call-screener phrases (a machine → the voicemail path,
 * `transcript` source; the message starts at the end of that utterance). Every utterance of a call
 * with `optOutPhrases` (built-ins + the agent's) is checked for an opt-out request once transcribed.
 */
export class OutboundFlow {
  private timer: NodeJS.Timeout | null = null;
  private waiting = false;
  private firstSeen = false;

  constructor(
    private readonly o: OutboundOptions | null,
    /** The agent's extra opt-out phrases; null: no opt-out detection (no outcome store). */
    private readonly optOutPhrases: readonly string[] | null,
    private readonly host: OutboundHost,
  ) {}

  /** Starts the call: greets (inbound), or starts the wait for "hello?" and acts on an AMD result stored earlier. */
  start(): void {
    if (!this.o) return this.host.greet();
    this.waiting = true;
    this.timer = setTimeout(() => this.greetNow(), this.o.greetingWaitMs);
    if (this.o.answeredBy) this.answeredBy(this.o.answeredBy);
  }

  /** Twilio's AMD result: a finished machine greeting → voicemail; `fax` → hang up; anything else changes nothing. */
  answeredBy(answeredBy: string): void {
    if (MACHINE_END.has(answeredBy) || answeredBy === 'fax') {
      this.stop();
      this.host.machine(answeredBy, 'twilio-amd');
    }
  }

  /** An accepted utterance (already queued for transcription). @returns true when it is held for the greeting. */
  heard(p: PendingUtterance): boolean {
    const first = !this.firstSeen;
    this.firstSeen = true;
    const hold = this.waiting && first;
    if (hold) this.stop();
    const early = !!this.o && p.u.startMs < MACHINE_CHECK_MS;
    if (!hold && this.optOutPhrases === null && !early) return false;
    void p.transcription.then((t) => {
      const text = t.ok ? t.transcript.text.trim() : '';
      // An opt-out is honoured even when its transcript arrives after the call began closing (or ended): the number
      // must reach the DNC list whatever the call was doing.
      if (text && this.optOutPhrases !== null && optOutPhraseIn(text, this.optOutPhrases)) return this.host.optOut('phrase', text);
      if (this.host.closing()) return;
      if (early && text && machinePhraseIn(text)) {
        if (hold) this.host.consume(p, text);
        return this.host.machine('machine_end_other', 'transcript');
      }
      if (hold) {
        this.host.consume(p, text);
        this.host.greet();
      }
    });
    return hold;
  }

  /** Cancels the greeting wait (the call ends, or a machine was found). */
  stop(): void {
    this.waiting = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private greetNow(): void {
    if (!this.waiting) return;
    this.stop();
    if (!this.host.closing()) this.host.greet();
  }
}
