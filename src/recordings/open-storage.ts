import path from 'node:path';
import type { Config } from '../config';
import { S3RecordingStorage } from './s3-storage';
import { LocalRecordingStorage, type RecordingStorage } from './storage';

/**
 * The storage Config asks for: the S3-compatible bucket when `recordings.s3` is set (recordings are written under
 * `<RECORDINGS_DIR>/.partial/` first), else files under RECORDINGS_DIR.
 */
export function openRecordingStorage(c: Config['recordings']): RecordingStorage {
  if (c.s3) return new S3RecordingStorage({ ...c.s3, partialDir: path.join(path.resolve(c.dir), '.partial') });
  return new LocalRecordingStorage(c.dir);
}
