import type { AudioChunk } from '../providers/types';
import { mulawEncode } from '../audio/mulaw';
import { StreamingResampler } from '../audio/resample';
import { pcm16Samples } from '../audio/pcm16';
import { splitHeardText } from './heard-text';
import { systemClock, type Clock } from './clock';
import type { MediaTransport } from '../domain/ports';

import { MULAW_BYTES_PER_MS, type HeardSpeech, type LedgerSegment, type SegmentResult } from './playout-types';

export { MULAW_BYTES_PER_MS };
export type { MediaTransport, HeardSpeech, SegmentResult };

/**
 * Sends an utterance's synthesized audio to Twilio as mu-law `media` messages (whole 20 ms frames, up to 100 ms per
 * message) with a `mark` after each segment,
 * and keeps a ledger of what was sent so the engine knows what the caller actually heard.
 *
 * - `mulaw`/8 kHz chunks pass through byte for byte; `pcm16` chunks go through one StreamingResampler per segment.
 * - Playhead model: Twilio plays our audio in order in real time. The playhead is anchored when audio starts after
 *   an idle moment, and re-anchored exactly when a mark comes back (Twilio echoes a mark once the audio before it
 *   has played — Media Streams docs, "mark" message). `heard()` = segments whose marks came back + the words of the
 *   cut segment in proportion to its elapsed playout time; its `unheard` is the rest of the utterance's ledger text.
 * - Barge-in: `pause()` sends `clear` at once (Twilio drops its buffer and echoes pending marks, reported as
 *   'cleared') and holds further audio; `resume()` re-sends from the heard position (a backchannel did not
 *   interrupt); otherwise the engine aborts the turn and records `heard()`.
 */
const FRAME_BYTES = 160; // 20 ms
/**
 * Largest outbound `media` message (bytes of mu-law: 800 = 100 ms). Twilio buffers outbound audio and accepts any
 * message size (PROTOCOLS.md, Media Streams), so audio already synthesized goes out in 100 ms messages: a fifth of the
 * JSON, base64 and socket writes of 20 ms frames, while a `clear` still drops everything Twilio holds.
 */
const MAX_MESSAGE_BYTES = 800;

export class Playout {
  private audio = new Uint8Array(64 * 1024);
  private length = 0;
  private segments: LedgerSegment[] = [];
  /** Utterance bytes handed to Twilio (since the last pause, counting from the resume point). */
  private sent = 0;
  private anchorWall = 0;
  private anchorByte = 0;
  private readonly pending = new Map<string, LedgerSegment>();
  private readonly cleared = new Set<string>();
  private pausedAtByte: number | null = null;
  private streaming = false;
  private resumes = 0;
  private waiters: Array<() => void> = [];
  private utteranceNo = 0;
  private firstSent: number | null = null;

  /** @param clock the session's clock (ms); marks and the playhead model are timed with it. */
  constructor(
    private readonly transport: MediaTransport,
    private readonly clock: Clock = systemClock,
  ) {}

  /** True while a segment is streaming, audio is paused, or Twilio still has our audio buffered (a mark is pending). */
  get speaking(): boolean {
    return this.streaming || this.pausedAtByte !== null || this.pending.size > 0;
  }

  /** True between `pause()` and `resume()`/`beginUtterance()`. */
  get paused(): boolean {
    return this.pausedAtByte !== null;
  }

  /** Number of the current utterance (1, 2, …; each {@link beginUtterance} starts the next). */
  get utterance(): number {
    return this.utteranceNo;
  }

  /** Clock time (ms) when the current utterance's first audio byte was sent, or null before that. */
  get firstSentAt(): number | null {
    return this.firstSent;
  }

  /** Starts a new utterance (greeting, reply, reprompt): forgets the previous ledger. @returns its number. */
  beginUtterance(): number {
    this.utteranceNo++;
    this.firstSent = null;
    this.length = 0;
    this.segments = [];
    this.sent = 0;
    this.anchorByte = 0;
    this.anchorWall = this.clock.now();
    this.pausedAtByte = null;
    return this.utteranceNo;
  }

  /**
   * Streams one segment of the current utterance: each chunk is sent as soon as it arrives (held while paused),
   * then `mark(markName)`. Stops (without a mark) when `signal` aborts, even if the provider rejects because of the
   * abort. Other provider errors propagate (the segment stays in the ledger as far as it got).
   */
  async playSegment(chunks: AsyncIterable<AudioChunk>, seg: { mark: string; text: string }, signal: AbortSignal): Promise<SegmentResult> {
    const entry: LedgerSegment = { text: seg.text, mark: seg.mark, startByte: this.length, endByte: null, markSent: false, played: false };
    this.segments.push(entry);
    let resampler: StreamingResampler | null = null;
    let oddByte: number | null = null;
    let firstAudioAt: number | null = null;
    const noteFirst = () => {
      if (firstAudioAt === null && this.sent > entry.startByte) firstAudioAt = this.clock.now();
    };
    this.streaming = true;
    try {
      for await (const chunk of chunks) {
        if (signal.aborted) return { firstAudioAt, bytes: this.length - entry.startByte, aborted: true };
        if (chunk.encoding === 'mulaw' && chunk.sampleRate === 8000) {
          this.append(chunk.data);
        } else {
          resampler ??= new StreamingResampler(chunk.sampleRate, 8000);
          const { samples, odd } = pcm16Samples(chunk.data, oddByte);
          oddByte = odd;
          this.append(mulawEncode(resampler.push(samples)));
        }
        this.pump(false);
        noteFirst();
      }
    } catch (err) {
      // A provider that rejects because we aborted it is not a failure of the segment.
      if (signal.aborted) return { firstAudioAt, bytes: this.length - entry.startByte, aborted: true };
      throw err;
    } finally {
      this.streaming = false;
    }
    if (signal.aborted) return { firstAudioAt, bytes: this.length - entry.startByte, aborted: true };
    if (resampler) this.append(mulawEncode(resampler.flush()));
    entry.endByte = this.length;
    this.pump(true);
    noteFirst();
    if (firstAudioAt === null && entry.endByte > entry.startByte && !this.paused) firstAudioAt = this.clock.now();
    this.notify();
    return { firstAudioAt, bytes: entry.endByte - entry.startByte, aborted: false };
  }

  /** Handles a mark echoed by Twilio. Returns 'played' or 'cleared' (echoed because of a clear), or 'unknown'. */
  onMark(name: string): 'played' | 'cleared' | 'unknown' {
    if (this.cleared.delete(name)) return 'cleared';
    const seg = this.pending.get(name);
    if (!seg) return 'unknown';
    this.pending.delete(name);
    seg.played = true;
    if (this.segments.includes(seg) && seg.endByte !== null) {
      this.anchorWall = this.clock.now();
      this.anchorByte = seg.endByte;
    }
    this.notify();
    return 'played';
  }

  /**
   * Barge-in onset: sends `clear` now and holds further audio. Returns false (and does nothing) when nothing is
   * playing or already paused.
   */
  pause(): boolean {
    if (!this.speaking || this.paused) return false;
    const heardAt = this.playhead(this.clock.now());
    this.pausedAtByte = heardAt;
    for (const [name, seg] of this.pending) {
      this.cleared.add(name);
      seg.markSent = false;
    }
    this.pending.clear();
    this.sent = heardAt;
    this.transport.sendClear();
    this.notify();
    return true;
  }

  /** Backchannel: re-sends the utterance from where the caller stopped hearing it, then carries on. */
  resume(): void {
    if (!this.paused) return;
    this.pausedAtByte = null;
    this.resumes++;
    this.anchorWall = this.clock.now();
    this.anchorByte = this.sent;
    this.pump(true);
    this.notify();
  }

  /** Stops the utterance for good (barge-in confirmed, DTMF, call end): `clear` if audio is still queued at Twilio. */
  stop(): void {
    if (!this.paused) this.pause();
  }

  /** What the caller heard of the current utterance so far (see class doc). */
  heard(): HeardSpeech {
    const at = this.pausedAtByte ?? this.playhead(this.clock.now());
    const words: string[] = [];
    const unheard: string[] = [];
    let complete = this.segments.length > 0;
    for (const s of this.segments) {
      if (!complete) {
        unheard.push(s.text.trim()); // after the segment that was playing
      } else if (s.played) {
        words.push(s.text.trim());
      } else {
        complete = false;
        const total = (s.endByte ?? this.length) - s.startByte;
        const cut = splitHeardText(s.text, total > 0 ? (at - s.startByte) / total : 0);
        words.push(cut.heard);
        unheard.push(cut.rest);
      }
    }
    return { text: words.filter(Boolean).join(' '), complete, unheard: unheard.filter(Boolean).join(' '), bytes: Math.max(0, at) };
  }

  /**
   * Resolves when every segment of the utterance has played (all marks back), or when paused audio is stopped,
   * or `signal` aborts. Marks that never come back (a broken peer) are given up on after the estimated remaining
   * playout + `graceMs` (ms): their segments count as played and the marks leave `pending`.
   */
  async drained(signal: AbortSignal, graceMs = 2_000): Promise<void> {
    while (!signal.aborted && this.unplayed()) {
      const remainingMs = Math.max(0, this.sent - this.playhead(this.clock.now())) / MULAW_BYTES_PER_MS;
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), remainingMs + graceMs);
        const onAbort = () => done(true);
        const done = (v: boolean) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.waiters = this.waiters.filter((w) => w !== wake);
          resolve(v);
        };
        const wake = () => done(true);
        this.waiters.push(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (!woke && !this.paused) {
        // The peer never echoed: assume it played, and stop waiting for those marks — a mark still `pending` would
        // keep `speaking` true, and the caller's next speech onset would send a spurious `clear`.
        for (const s of this.segments) s.played = true;
        for (const [name, seg] of this.pending) if (this.segments.includes(seg)) this.pending.delete(name);
        this.notify();
        return;
      }
    }
  }

  private unplayed(): boolean {
    return this.streaming || this.segments.some((s) => !s.played);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Estimated utterance byte Twilio is playing now. */
  private playhead(now: number): number {
    return Math.min(this.sent, this.anchorByte + Math.max(0, now - this.anchorWall) * MULAW_BYTES_PER_MS);
  }

  private append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.audio.length) {
      const next = new Uint8Array(Math.max(this.audio.length * 2, this.length + bytes.length));
      next.set(this.audio.subarray(0, this.length));
      this.audio = next;
    }
    this.audio.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Sends what can be sent: whole segments with their marks, and whole frames of the one still streaming. */
  private pump(flushOpen: boolean): void {
    if (this.paused) return;
    const now = this.clock.now();
    if (this.playhead(now) >= this.sent) {
      this.anchorWall = now; // Twilio was idle: playback (re)starts with what we send now
      this.anchorByte = this.sent;
    }
    for (const s of this.segments) {
      if (s.endByte === null) {
        const end = flushOpen ? this.length : this.sent + Math.floor((this.length - this.sent) / FRAME_BYTES) * FRAME_BYTES;
        this.sendRange(end);
        break;
      }
      if (s.endByte > this.sent) this.sendRange(s.endByte);
      if (!s.markSent && !s.played && s.endByte <= this.sent) {
        const name = this.resumes ? `${s.mark}-r${this.resumes}` : s.mark;
        s.markSent = true;
        this.pending.set(name, s);
        this.transport.sendMark(name);
      }
    }
  }

  private sendRange(end: number): void {
    while (this.sent < end) {
      const n = Math.min(MAX_MESSAGE_BYTES, end - this.sent);
      this.firstSent ??= this.clock.now();
      this.transport.sendMedia(this.audio.slice(this.sent, this.sent + n));
      this.sent += n;
    }
  }
}
