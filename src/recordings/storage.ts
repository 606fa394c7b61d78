import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** An inclusive byte range of a stored recording (HTTP `Range: bytes=start-end`, RFC 9110 §14.1.2). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where finished recordings live: a local directory ({@link LocalRecordingStorage}) or an S3-compatible bucket. */
export interface RecordingStorage {
  /** Stored in the `recordings.storage` column. */
  readonly kind: 'local' | 's3';
  /** Directory for recordings being written (on the same file system as local storage, so saving is a rename). */
  readonly partialDir: string;
  /**
   * Moves the finished file at `file` (`bytes` long) into storage under `key`; the file is gone afterwards.
   * @throws on an I/O or upload error (the file is left in place).
   */
  save(file: string, key: string, bytes: number): Promise<void>;
  /** The stored bytes of `key` (all, or `range`), or null when it is not there. @throws on other I/O errors. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Deletes `key`; a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** Keys are `YYYY/MM/DD/<callSid>.wav` (UTC date of the recording's end): letters, digits, `_ - . /`, no `..`. */
export function recordingKey(callSid: string, at: Date): string {
  const d = at.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/${callSid.replace(/[^A-Za-z0-9_-]/g, '_')}.wav`;
}

const SAFE_KEY = /^(?!.*\.\.)[A-Za-z0-9_.\-/]+$/;

/**
 * Recordings as files under `dir` (RECORDINGS_DIR, created on first save); recordings being written go to
 * `<dir>/.partial/`. Keys never leave `dir` (a key with `..` or other characters is refused).
 */
export class LocalRecordingStorage implements RecordingStorage {
  readonly kind = 'local' as const;
  readonly partialDir: string;
  private readonly root: string;

  constructor(dir: string) {
    this.root = path.resolve(dir);
    this.partialDir = path.join(this.root, '.partial');
  }

  private file(key: string): string {
    if (!SAFE_KEY.test(key) || key.startsWith('/')) throw new Error(`invalid recording key ${JSON.stringify(key)}`);
    return path.join(this.root, key);
  }

  async save(file: string, key: string): Promise<void> {
    const dest = this.file(key);
    await mkdir(path.dirname(dest), { recursive: true });
    try {
      await rename(file, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(file, dest); // another file system (a partial dir elsewhere): copy, then remove
      await rm(file, { force: true });
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    const f = this.file(key);
    try {
      await stat(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return createReadStream(f, range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}
