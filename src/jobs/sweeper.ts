import type { Logger } from 'pino';
import type { CallsRepo } from '../db/calls';
import { enqueuePostCall } from './post-call';
import type { PostCallQueue } from './queues';
import { startPeriodic } from './periodic';

export interface SweeperOptions {
  queue: PostCallQueue;
  calls: Pick<CallsRepo, 'pendingPostCall' | 'markPostCallEnqueued'>;
  logger: Logger;
  /** Time between sweeps (ms). Default 30 000. */
  intervalMs?: number;
  /** Only calls ended at least this long ago (ms), so the engine's own enqueue wins the race. Default 5 000. */
  olderThanMs?: number;
  /** Max calls re-enqueued per sweep. Default 100. */
  batchSize?: number;
}

export interface Sweeper {
  /** One sweep now; returns how many calls were enqueued. Failures are logged per call and do not throw. */
  sweepOnce(): Promise<number>;
  /** Stops the timer and waits for a running sweep. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, re-enqueues ended calls whose post_call_enqueued_at is null (their enqueue was lost, e.g. a
 * Redis blip). Sweeps never overlap; the timer is unref'd so it does not keep the process alive.
 */
export function startSweeper(o: SweeperOptions): Sweeper {
  const log = o.logger.child({ component: 'post-call-sweeper' });
  const sweep = async (): Promise<number> => {
    const sids = await o.calls.pendingPostCall(o.batchSize ?? 100, o.olderThanMs ?? 5_000);
    let n = 0;
    for (const callSid of sids) {
      try {
        await enqueuePostCall(o.queue, o.calls, callSid);
        n += 1;
      } catch (err) {
        log.warn({ callSid, err: (err as Error).message }, 'sweeper could not enqueue post-call jobs');
      }
    }
    if (n) log.info({ enqueued: n }, 'sweeper re-enqueued post-call jobs');
    return n;
  };
  const job = startPeriodic({ intervalMs: o.intervalMs ?? 30_000, run: sweep, onError: (err) => log.warn({ err: (err as Error).message }, 'sweep failed') });
  return { sweepOnce: job.runOnce, stop: job.stop };
}
