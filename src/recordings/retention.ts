import type { Logger } from 'pino';
import type { RecordingsRepo } from '../db/recordings';
import { safeErrorMessage } from '../domain/redact';
import { startPeriodic, type Periodic } from '../jobs/periodic';
import type { RecordingStorage } from './storage';

const DAY_MS = 24 * 3_600_000;

/** What {@link startRecordingRetention} needs. */
export interface RecordingRetentionOptions {
  recordings: Pick<RecordingsRepo, 'olderThan' | 'delete'>;
  storage: Pick<RecordingStorage, 'delete'>;
  logger: Logger;
  /** RECORDINGS_RETENTION_DAYS: recordings older than this are deleted (> 0). */
  retentionDays: number;
  /** Time between runs (ms); default 1 h. */
  intervalMs?: number;
  /** Recordings deleted per batch (a run goes on batch after batch until none is left); default 200. */
  batchSize?: number;
  /** Wall clock (default `new Date()`). */
  now?: () => Date;
}

/**
 * Deletes recordings older than `retentionDays`: for each, its file or object first, then its row (a crash in
 * between leaves the row, so the next run retries the delete — deleting a missing object is not an error). One
 * recording that fails is logged and left for the next run; the others go on. Runs every `intervalMs` (see
 * {@link startPeriodic}); `runOnce()` resolves to how many were deleted. Several worker processes may run it at once
 * (every step is idempotent).
 */
export function startRecordingRetention(o: RecordingRetentionOptions): Periodic<number> {
  const log = o.logger.child({ component: 'recording-retention' });
  const batch = o.batchSize ?? 200;
  const run = async (): Promise<number> => {
    const before = new Date((o.now ?? (() => new Date()))().getTime() - o.retentionDays * DAY_MS);
    let deleted = 0;
    const failed = new Set<string>();
    for (;;) {
      const rows = (await o.recordings.olderThan(before, batch + failed.size)).filter((r) => !failed.has(r.callSid));
      if (rows.length === 0) break;
      for (const r of rows) {
        try {
          await o.storage.delete(r.key);
          if (await o.recordings.delete(r.callSid)) deleted += 1;
        } catch (err) {
          failed.add(r.callSid);
          log.warn({ callSid: r.callSid, err: safeErrorMessage(err) }, 'expired recording not deleted; retried next run');
        }
      }
    }
    if (deleted) log.info({ deleted, retentionDays: o.retentionDays }, 'expired recordings deleted');
    return deleted;
  };
  return startPeriodic({ intervalMs: o.intervalMs ?? 3_600_000, run, onError: (err) => log.warn({ err: safeErrorMessage(err) }, 'recording retention run failed') });
}
