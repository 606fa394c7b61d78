import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { safeErrorMessage } from '../domain/redact';
import { startPeriodic, type Periodic } from '../jobs/periodic';

/** Partial recordings untouched this long (ms) are abandoned: a live call's file is written every second. */
export const PARTIAL_MAX_AGE_MS = 24 * 3_600_000;

/** What {@link startPartialRecordingSweep} needs. */
export interface PartialSweepOptions {
  /** The storage's `partialDir` (RecordingStorage.partialDir), where RecordingWriter writes `*.wav.part` files. */
  dir: string;
  logger: Logger;
  /** Age (ms, by modification time) past which a partial file is removed; default {@link PARTIAL_MAX_AGE_MS}. */
  maxAgeMs?: number;
  /** Time between runs (ms); default 1 h. The first run starts at once. */
  intervalMs?: number;
  /** Wall clock (default `new Date()`). */
  now?: () => Date;
}

/**
 * Removes `*.wav.part` files that a server killed mid-call (SIGKILL, a crash, a lost host) left in the recordings'
 * partial directory: a RecordingWriter writes its file at least every `chunkMs` (1 s) while the call lives and moves
 * or removes it when the call ends, so a file not modified for `maxAgeMs` (24 h, far beyond any call's time limit)
 * belongs to no live call. Several servers sharing the directory may run it at once (a file already removed is not an
 * error). A missing directory is nothing to do. `runOnce()` resolves to how many files were removed.
 */
export function startPartialRecordingSweep(o: PartialSweepOptions): Periodic<number> {
  const log = o.logger.child({ component: 'recording-partial-sweep' });
  const maxAge = o.maxAgeMs ?? PARTIAL_MAX_AGE_MS;
  const run = async (): Promise<number> => {
    let names: string[];
    try {
      names = await readdir(o.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const before = (o.now ?? (() => new Date()))().getTime() - maxAge;
    let removed = 0;
    for (const name of names.filter((n) => n.endsWith('.wav.part'))) {
      const file = path.join(o.dir, name);
      try {
        if ((await stat(file)).mtimeMs >= before) continue;
        await rm(file, { force: true });
        removed += 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file: name, err: safeErrorMessage(err) }, 'abandoned partial recording not removed');
      }
    }
    if (removed) log.info({ removed, dir: o.dir }, 'abandoned partial recordings removed');
    return removed;
  };
  const periodic = startPeriodic({ intervalMs: o.intervalMs ?? 3_600_000, run, onError: (err) => log.warn({ err: safeErrorMessage(err) }, 'partial recording sweep failed') });
  periodic.runOnce().catch((err) => log.warn({ err: safeErrorMessage(err) }, 'partial recording sweep failed'));
  return periodic;
}
