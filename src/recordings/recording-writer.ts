import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { wavHeader } from '../audio/wav';
import { safeErrorMessage } from '../domain/redact';
import type { RecordingsRepo } from '../db/recordings';
import { StereoTimeline } from './stereo-timeline';
import { recordingKey, type RecordingStorage } from './storage';

/** The recording's format: 2 channels (caller left, agent right), 8 kHz, 16-bit PCM (mu-law decoded). */
export const RECORDING_CHANNELS = 2;
export const RECORDING_RATE = 8_000;
/** Bytes per ms of recording (2 channels × 2 bytes × 8 samples). */
const BYTES_PER_MS = (RECORDING_CHANNELS * 2 * RECORDING_RATE) / 1_000;
const HEADER_BYTES = 44;

/** What a {@link RecordingWriter} needs. */
export interface RecordingWriterDeps {
  storage: RecordingStorage;
  recordings: Pick<RecordingsRepo, 'add'>;
  /** Where the `recording.ready` call event goes (the calls repository). */
  events: { addEvent(callSid: string, type: string, payload?: Record<string, unknown>): Promise<void> };
  logger: Logger;
  /** Monotonic ms (default performance.now()). */
  clock?: { now(): number };
  /** Wall time, for the storage key's date (default `new Date()`). */
  now?: () => Date;
  /** Audio written per file write (ms of both channels); default 1000. */
  chunkMs?: number;
  /** Bytes waiting for the disk beyond which the recording is abandoned (the call goes on); default 4 MiB (~2 min). */
  maxPendingBytes?: number;
}

/**
 * One call's recording, as a call tap (src/call-taps.ts: `onInbound`, `onOutbound`, `onClear`, `close`): a two-channel
 * 8 kHz 16-bit PCM WAV, caller left, agent right, time-aligned by a {@link StereoTimeline}. Written incrementally to
 * `<partialDir>/<callSid>-<random>.wav.part`: a placeholder header, then the audio in `chunkMs` chunks by async
 * positioned writes (one at a time, in order); at close the rest is written, the header's sizes filled in, the file
 * moved to storage (`YYYY/MM/DD/<callSid>.wav`), its `recordings` row inserted and a `recording.ready` call event
 * (`{ durationMs, bytes, storage }`) added. The audio path only copies bytes into the time line; no method throws.
 * A failure (disk full, the disk falling `maxPendingBytes` behind, an upload error) stops this recording only: it is
 * logged, the partial file removed, no row written.
 *
 * Why 16-bit PCM rather than WAVE_FORMAT_MULAW (half the size): every browser's `<audio>` and Web Audio decoder
 * plays PCM WAV (mu-law WAV is not decoded by Firefox and Safari), the dashboard's waveform needs it, and
 * `src/audio/wav.ts` reads it back. An hour of call is 115 MB.
 */
export class RecordingWriter {
  private readonly log: Logger;
  private readonly timeline: StereoTimeline;
  private readonly file: string;
  private readonly chunkSamples: number;
  private readonly maxPending: number;
  private fh: FileHandle | null = null;
  /** The file writes, in order. */
  private chain: Promise<void>;
  /** Data bytes handed to the file (header excluded). */
  private dataBytes = 0;
  private pendingBytes = 0;
  private failed = false;
  private closed = false;

  constructor(
    private readonly callSid: string,
    private readonly d: RecordingWriterDeps,
  ) {
    this.log = d.logger.child({ callSid, component: 'recording' });
    this.timeline = new StereoTimeline(d.clock ?? { now: () => performance.now() });
    this.chunkSamples = Math.max(1, Math.round((d.chunkMs ?? 1_000) * (RECORDING_RATE / 1_000)));
    this.maxPending = d.maxPendingBytes ?? 4 * 1024 * 1024;
    const file = path.join(d.storage.partialDir, `${callSid.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(4).toString('hex')}.wav.part`);
    this.file = file;
    this.chain = (async () => {
      await mkdir(d.storage.partialDir, { recursive: true });
      this.fh = await open(file, 'w');
      await this.fh.write(wavHeader({ channels: RECORDING_CHANNELS, sampleRate: RECORDING_RATE, dataBytes: 0 }), 0, HEADER_BYTES, 0);
    })().catch((err) => this.fail(err));
  }

  /** A caller frame (raw mu-law); writes a chunk once `chunkMs` of both channels is final. */
  onInbound(mulaw: Uint8Array): void {
    if (this.failed || this.closed) return;
    this.timeline.inbound(mulaw);
    const ready = this.timeline.ready();
    if (ready >= this.chunkSamples) this.write(this.timeline.take(ready));
  }

  /** Agent audio sent to Twilio (raw mu-law). */
  onOutbound(mulaw: Uint8Array): void {
    if (!this.failed && !this.closed) this.timeline.outbound(mulaw);
  }

  /** Twilio's `clear`: the agent audio not yet played is dropped from the recording. */
  onClear(): void {
    if (!this.failed && !this.closed) this.timeline.clear();
  }

  /** The call ended: writes the rest, finalizes the header and stores the recording (see the class doc). Never rejects. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) this.write(this.timeline.finish());
    await this.chain;
    try {
      if (this.failed || !this.fh || this.dataBytes === 0) {
        await this.discard();
        return;
      }
      await this.fh.write(wavHeader({ channels: RECORDING_CHANNELS, sampleRate: RECORDING_RATE, dataBytes: this.dataBytes }), 0, HEADER_BYTES, 0);
      await this.fh.close();
      this.fh = null;
      const bytes = HEADER_BYTES + this.dataBytes;
      const durationMs = Math.round(this.dataBytes / BYTES_PER_MS);
      const key = recordingKey(this.callSid, (this.d.now ?? (() => new Date()))());
      await this.d.storage.save(this.file, key, bytes);
      await this.d.recordings.add({ callSid: this.callSid, storage: this.d.storage.kind, key, durationMs, bytes, channels: RECORDING_CHANNELS });
      await this.d.events.addEvent(this.callSid, 'recording.ready', { durationMs, bytes, storage: this.d.storage.kind });
      this.log.info({ durationMs, bytes, storage: this.d.storage.kind, reason }, 'recording stored');
    } catch (err) {
      this.log.error({ err: safeErrorMessage(err) }, 'recording could not be stored');
      await this.discard();
    }
  }

  private write(buf: Buffer): void {
    if (buf.length === 0 || this.failed) return;
    if (this.pendingBytes + buf.length > this.maxPending) return this.fail(new Error(`the disk is ${this.pendingBytes} bytes behind`));
    const pos = HEADER_BYTES + this.dataBytes;
    this.dataBytes += buf.length;
    this.pendingBytes += buf.length;
    this.chain = this.chain
      .then(async () => {
        if (this.failed || !this.fh) return;
        await this.fh.write(buf, 0, buf.length, pos);
        this.pendingBytes -= buf.length;
      })
      .catch((err) => this.fail(err));
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.log.error({ err: safeErrorMessage(err) }, 'recording stopped: the call goes on unrecorded');
    if (this.closed) return;
    // Nothing more is written: remove what was (the close would, but the call may go on for long).
    this.chain = this.chain.then(() => this.discard());
  }

  /** Closes and removes the partial file (errors logged). */
  private async discard(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
    await rm(this.file, { force: true }).catch((err) => this.log.warn({ err: safeErrorMessage(err) }, 'partial recording not removed'));
  }
}

/**
 * The recording call-tap factory: a {@link RecordingWriter} for every call whose agent records calls
 * (`recordCalls`, default true), none otherwise.
 */
export function recordingTaps(d: RecordingWriterDeps): (call: { callSid: string; recordCalls?: boolean }) => RecordingWriter | null {
  return (call) => (call.recordCalls === false ? null : new RecordingWriter(call.callSid, d));
}
