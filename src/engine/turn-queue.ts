import { raceAbort } from './clock';

/** What a turn is: the greeting or a fixed line, an answer to the caller, or a call-control plan. */
export type TurnKind = 'say' | 'answer' | 'control';

/** One unit of agent work. `run` must stop promptly when `signal` aborts (the queue does not wait for it anyway). */
export interface TurnJob {
  kind: TurnKind;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * The call's turn queue: jobs run one at a time, in order, each with its own AbortController (no listener on any
 * shared signal, so nothing accumulates over a long call). Aborting the running job frees the queue at once: the
 * next job starts without waiting for work that ignores its signal (a late result of the aborted job is dropped by
 * the job itself, which checks its signal). A job's error is reported to `onError` unless the job was aborted.
 */
export class TurnQueue {
  private readonly queue: TurnJob[] = [];
  private current: { job: TurnJob; ac: AbortController } | null = null;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly onError: (err: unknown, job: TurnJob) => void) {}

  /** The kind of the job running now, or null. */
  get running(): TurnKind | null {
    return this.current?.job.kind ?? null;
  }

  /** Whether a job of `kind` waits in the queue. */
  hasQueued(kind: TurnKind): boolean {
    return this.queue.some((j) => j.kind === kind);
  }

  /** Appends a job (ignored once closed). */
  enqueue(job: TurnJob): void {
    if (this.closed) return;
    this.queue.push(job);
    this.pump();
  }

  /** Removes the queued (not running) jobs of `kind`. */
  dropQueued(kind: TurnKind): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].kind === kind) this.queue.splice(i, 1);
  }

  /** Aborts the running job (if any) with `Error(reason)`; the queue moves on at once. */
  abortCurrent(reason: string): void {
    const c = this.current;
    if (c && !c.ac.signal.aborted) c.ac.abort(new Error(reason));
  }

  /** Aborts the running job, drops the queue and refuses new jobs. */
  close(reason: string): void {
    this.closed = true;
    this.queue.length = 0;
    this.abortCurrent(reason);
    this.notifyIdle();
  }

  /** Resolves when no job runs and none is queued. */
  idle(): Promise<void> {
    if (!this.current && !this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    if (this.current) return;
    const job = this.queue.shift();
    if (!job) return this.notifyIdle();
    const ac = new AbortController();
    this.current = { job, ac };
    void (async () => {
      try {
        await raceAbort(Promise.resolve().then(() => job.run(ac.signal)), ac.signal);
      } catch (err) {
        if (!ac.signal.aborted) this.onError(err, job);
      } finally {
        this.current = null;
        this.pump();
      }
    })();
  }

  private notifyIdle(): void {
    if (this.current || this.queue.length) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
