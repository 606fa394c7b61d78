import type { Pcm } from '../audio/types';
import type { VadFrame, VadStream } from './vad';
import { SampleWindow } from './sample-window';

/**
 * Endpointing: turns a stream of 8 kHz caller audio into utterances, from per-window VAD probabilities.
 *
 * Model (all times ms since the stream's first sample):
 * - Hysteresis (as in silero-vad's `get_speech_timestamps`): a window is speech when its probability ≥
 *   `positiveThreshold`, or ≥ `negativeThreshold` while the previous window was speech.
 * - A *segment* is a run of windows whose speech gaps are all shorter than `silenceMs`. It becomes an utterance only
 *   once its summed speech time reaches `minSpeechMs`; at that moment `speech_start` is emitted (barge-in uses it).
 *   A segment that ends (gap ≥ `silenceMs`) before then was noise / a click and produces nothing.
 * - A confirmed segment ends when the gap after its last speech window reaches `silenceMs` (reason `silence`), when
 *   it has lasted `maxUtteranceMs` (reason `max_length`; speech going on starts a new segment, which emits its own
 *   `speech_start`), or at {@link TurnDetector.flush} (reason `end_of_stream`).
 * - The utterance audio runs from `startMs - prerollMs` to `endMs + postrollMs` (clamped to the audio seen).
 * - Speculation (`pauseMs` > 0): when a confirmed segment's speech stops for `pauseMs`, `pause` carries the audio the
 *   utterance would have if it ended there (the same samples, as long as `pauseMs` ≥ `postrollMs`), so STT can start
 *   before the endpointing silence; once per pause. {@link TurnDetector.endpointAfter} then lets the caller of the
 *   detector shorten or lengthen that silence for this pause only (adaptive endpointing); speech resuming cancels it.
 * - Barge-in support (the agent may be talking): `speech_onset` at the first speech window of a segment (the engine
 *   pauses agent audio at once); `barge_in` once the segment's speech reaches `bargeInMinSpeechMs` (a real
 *   interruption); `backchannel` when the segment's speech stops for `backchannelGapMs` before reaching it (a short
 *   noise or "mm-hm": the engine resumes the agent). Each is emitted at most once per segment; `barge_in` can
 *   follow a `backchannel` when the caller goes on talking.
 * - A VAD window whose inference failed (`failed: true`, see VadFrame) carries on the previous window's decision, so
 *   a failure by itself neither starts nor ends an utterance: during non-speech it is non-speech (time passes as
 *   usual); during speech it keeps the segment open (its end moves on, so the silence gap does not grow) but adds no
 *   speech time, so failed windows alone never confirm an utterance (`speech_start`) or a `barge_in`. A failed window
 *   can still end a confirmed segment at `maxUtteranceMs`, like any window of an open segment.
 */

export interface TurnDetectorOptions {
  /** VAD silence after speech that ends the turn (ms). Default 800. */
  silenceMs?: number;
  /** Speech shorter than this (summed speech time) is noise or a backchannel (ms). Default 250. */
  minSpeechMs?: number;
  /** Hard cap on one utterance (ms). Default 30000. */
  maxUtteranceMs?: number;
  /** Audio kept before the first speech window (ms). Default 300. */
  prerollMs?: number;
  /** Audio kept after the last speech window (ms), so soft word endings reach STT. Default 200. */
  postrollMs?: number;
  /** Probability at or above which a window starts speech. Default 0.5. */
  positiveThreshold?: number;
  /** Probability below which speech stops (hysteresis). Default 0.35. */
  negativeThreshold?: number;
  /** Speech (summed) a segment needs before it interrupts the agent (ms). Default 400. */
  bargeInMinSpeechMs?: number;
  /** Non-speech after a short segment that makes it a backchannel (ms). Default 300. */
  backchannelGapMs?: number;
  /** Gap inside a confirmed segment that emits `pause` (speculative STT), ms; 0 = off. Default 0. */
  pauseMs?: number;
}

export type TurnEvent =
  | { type: 'speech_onset'; /** End of the first speech window of a new segment. */ atMs: number; speechStartMs: number }
  | { type: 'barge_in'; /** When the segment's speech reached bargeInMinSpeechMs. */ atMs: number; speechStartMs: number }
  | { type: 'backchannel'; /** When the gap reached backchannelGapMs. */ atMs: number; speechStartMs: number; speechMs: number }
  | { type: 'speech_start'; /** Time the speech was confirmed (minSpeechMs reached). */ atMs: number; /** First speech window start. */ speechStartMs: number }
  | {
      type: 'pause';
      /** When the gap reached pauseMs. */
      atMs: number;
      /** The utterance's audio if it ended here (as `utterance`), and its speech start and end. */
      audio: Pcm;
      audioStartMs: number;
      startMs: number;
      endMs: number;
      speechMs: number;
    }
  | {
      type: 'utterance';
      /** 8 kHz PCM16 from audioStartMs (includes preroll) to endMs + postroll. */
      audio: Pcm;
      audioStartMs: number;
      /** Start of the first speech window. */
      startMs: number;
      /** End of the last speech window. */
      endMs: number;
      /** When the turn was closed (silence timeout fired, cap reached, or stream ended). */
      endpointedAtMs: number;
      reason: 'silence' | 'max_length' | 'end_of_stream';
      /** Summed speech time of the segment (ms). */
      speechMs: number;
    };

const RATE = 8000;
const SAMPLES_PER_MS = RATE / 1000;

interface Segment {
  startMs: number;
  lastSpeechEndMs: number;
  speechMs: number;
  confirmed: boolean;
  bargeIn: boolean;
  backchannel: boolean;
  /** `pause` emitted for the current gap. */
  paused: boolean;
  /** Endpointing silence for the current gap only (endpointAfter), ms. */
  silenceMs: number | null;
}

/**
 * Pure endpointing state machine (see module doc) over a {@link VadStream}. One per call; not re-entrant: await each
 * `push` before the next. Options are validated at construction.
 */
export class TurnDetector {
  private readonly o: Required<TurnDetectorOptions>;
  private readonly audio = new SampleWindow();
  private inSpeech = false;
  private seg: Segment | null = null;
  private lastFrameEndMs = 0;

  /**
   * @param vad a fresh VadStream (times from 0 = first sample pushed here); its frames drive the detector.
   * @throws Error when an option is negative, thresholds are outside 0..1, or negativeThreshold > positiveThreshold.
   */
  constructor(private readonly vad: VadStream, options: TurnDetectorOptions = {}) {
    this.o = {
      silenceMs: options.silenceMs ?? 800,
      minSpeechMs: options.minSpeechMs ?? 250,
      maxUtteranceMs: options.maxUtteranceMs ?? 30_000,
      prerollMs: options.prerollMs ?? 300,
      postrollMs: options.postrollMs ?? 200,
      positiveThreshold: options.positiveThreshold ?? 0.5,
      negativeThreshold: options.negativeThreshold ?? 0.35,
      bargeInMinSpeechMs: options.bargeInMinSpeechMs ?? 400,
      backchannelGapMs: options.backchannelGapMs ?? 300,
      pauseMs: options.pauseMs ?? 0,
    };
    for (const k of ['silenceMs', 'minSpeechMs', 'maxUtteranceMs', 'prerollMs', 'postrollMs', 'bargeInMinSpeechMs', 'backchannelGapMs', 'pauseMs'] as const) {
      if (!Number.isFinite(this.o[k]) || this.o[k] < 0) throw new Error(`TurnDetector: ${k} must be a non-negative number of ms, got ${this.o[k]}`);
    }
    const { positiveThreshold: pos, negativeThreshold: neg } = this.o;
    if (!(pos >= 0 && pos <= 1 && neg >= 0 && neg <= 1 && neg <= pos)) {
      throw new Error(`TurnDetector: need 0 ≤ negativeThreshold (${neg}) ≤ positiveThreshold (${pos}) ≤ 1`);
    }
    if (this.o.maxUtteranceMs <= this.o.minSpeechMs) throw new Error('TurnDetector: maxUtteranceMs must exceed minSpeechMs');
  }

  /** Whether a confirmed utterance is in progress (speech_start emitted, not yet endpointed). */
  get speaking(): boolean {
    return this.seg?.confirmed ?? false;
  }

  /** Adds 8 kHz PCM16 caller audio (any length) and returns the events it caused, in time order. */
  async push(samples8k: Int16Array): Promise<TurnEvent[]> {
    this.audio.append(samples8k);
    const frames = await this.vad.push(samples8k);
    return this.consume(frames);
  }

  /**
   * Adaptive endpointing: end the current pause after `silenceMs` of silence instead of the configured one. Applies
   * only while the segment that started at `startMs` has had no speech since `endMs` (the pause the decision was
   * made on); speech resuming restores the default. A silence already longer ends the turn at the next window.
   * @returns whether it applied.
   */
  endpointAfter(startMs: number, endMs: number, silenceMs: number): boolean {
    const s = this.seg;
    if (!s || !s.confirmed || s.startMs !== startMs || s.lastSpeechEndMs !== endMs || !(silenceMs >= 0)) return false;
    s.silenceMs = silenceMs;
    return true;
  }

  /** Releases the VAD stream's state. The detector must not be used afterwards. */
  close(): void {
    this.vad.close();
  }

  /**
   * Ends the stream: runs the VAD over the last partial window and returns a pending confirmed utterance
   * (reason `end_of_stream`; an unconfirmed segment is dropped). The detector can keep being used afterwards.
   */
  async flush(): Promise<TurnEvent[]> {
    const events = this.consume(await this.vad.flush());
    const s = this.seg;
    if (s?.confirmed) events.push(this.utterance(s, Math.max(this.lastFrameEndMs, s.lastSpeechEndMs), 'end_of_stream'));
    this.seg = null;
    this.inSpeech = false;
    return events;
  }

  /** Feeds VAD frames directly (for callers that run the VAD themselves; `push` uses it). */
  consume(frames: VadFrame[]): TurnEvent[] {
    const events: TurnEvent[] = [];
    const { positiveThreshold: pos, negativeThreshold: neg, minSpeechMs, maxUtteranceMs, bargeInMinSpeechMs } = this.o;
    for (const f of frames) {
      this.lastFrameEndMs = f.endMs;
      let s = this.seg;
      if (f.failed) {
        // Carry on the previous decision (see module doc): extend an open speech run, add no speech time.
        if (this.inSpeech && s) {
          s.lastSpeechEndMs = f.endMs;
          if (s.confirmed && f.endMs - s.startMs >= maxUtteranceMs) {
            events.push(this.utterance(s, f.endMs, 'max_length'));
            this.seg = null;
          }
        } else if (s) {
          this.gap(s, f.endMs, events);
        }
        continue;
      }
      this.inSpeech = f.probability >= (this.inSpeech ? neg : pos);
      if (this.inSpeech) {
        if (!s) {
          s = this.seg = { startMs: f.startMs, lastSpeechEndMs: f.endMs, speechMs: 0, confirmed: false, bargeIn: false, backchannel: false, paused: false, silenceMs: null };
          events.push({ type: 'speech_onset', atMs: f.endMs, speechStartMs: s.startMs });
        }
        s.speechMs += f.endMs - f.startMs;
        s.lastSpeechEndMs = f.endMs;
        s.paused = false; // the caller went on: a speculation on the pause is stale, its endpointing too
        s.silenceMs = null;
        if (!s.confirmed && s.speechMs >= minSpeechMs) {
          s.confirmed = true;
          events.push({ type: 'speech_start', atMs: f.endMs, speechStartMs: s.startMs });
        }
        if (!s.bargeIn && s.speechMs >= bargeInMinSpeechMs) {
          s.bargeIn = true;
          events.push({ type: 'barge_in', atMs: f.endMs, speechStartMs: s.startMs });
        }
        if (s.confirmed && f.endMs - s.startMs >= maxUtteranceMs) {
          events.push(this.utterance(s, f.endMs, 'max_length'));
          this.seg = null;
        }
      } else if (s) {
        this.gap(s, f.endMs, events);
      }
    }
    // Keep only what a future utterance can still need.
    const keepFromMs = this.seg ? this.seg.startMs - this.o.prerollMs : this.lastFrameEndMs - this.o.prerollMs;
    this.audio.trimBefore(Math.floor(keepFromMs * SAMPLES_PER_MS));
    return events;
  }

  /** A non-speech window ending at `endMs` inside segment `s`: backchannel and silence endpointing. */
  private gap(s: Segment, endMs: number, events: TurnEvent[]): void {
    const gap = endMs - s.lastSpeechEndMs;
    if (!s.bargeIn && !s.backchannel && gap >= this.o.backchannelGapMs) {
      s.backchannel = true;
      events.push({ type: 'backchannel', atMs: endMs, speechStartMs: s.startMs, speechMs: s.speechMs });
    }
    if (s.confirmed && !s.paused && this.o.pauseMs > 0 && gap >= this.o.pauseMs) {
      s.paused = true;
      const u = this.utterance(s, endMs, 'silence') as Extract<TurnEvent, { type: 'utterance' }>;
      events.push({ type: 'pause', atMs: endMs, audio: u.audio, audioStartMs: u.audioStartMs, startMs: s.startMs, endMs: s.lastSpeechEndMs, speechMs: s.speechMs });
    }
    if (gap >= (s.silenceMs ?? this.o.silenceMs)) {
      if (s.confirmed) events.push(this.utterance(s, endMs, 'silence'));
      this.seg = null;
    }
  }

  private utterance(s: Segment, endpointedAtMs: number, reason: 'silence' | 'max_length' | 'end_of_stream'): TurnEvent {
    const audioStartMs = Math.max(0, s.startMs - this.o.prerollMs, this.audio.start / SAMPLES_PER_MS);
    const audioEndMs = Math.min(s.lastSpeechEndMs + this.o.postrollMs, Math.max(endpointedAtMs, s.lastSpeechEndMs));
    const samples = this.audio.slice(Math.round(audioStartMs * SAMPLES_PER_MS), Math.round(audioEndMs * SAMPLES_PER_MS));
    return {
      type: 'utterance',
      audio: { samples, sampleRate: RATE },
      audioStartMs,
      startMs: s.startMs,
      endMs: s.lastSpeechEndMs,
      endpointedAtMs,
      reason,
      speechMs: s.speechMs,
    };
  }
}
