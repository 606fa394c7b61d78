import type { Logger } from 'pino';
import type { TransferRecord, TurnInput } from '../domain/calls';
import type { CallStore } from '../domain/ports';
import type { UsageRecord } from '../domain/usage';
import { spokenTransferSummary } from '../analytics/call-summary';

/** Options of {@link CallRecorder} (ms). */
export interface RecorderOptions {
  /** First retry delay of a failed write; doubles up to `retryMaxMs`. Default 200. */
  retryBaseMs?: number;
  /** Default 2000. */
  retryMaxMs?: number;
}

/**
 * PostgreSQL SQLSTATE classes that retrying cannot fix (22 data exception, 23 integrity constraint violation, 42
 * syntax error or access rule violation — PostgreSQL manual, appendix A). Anything else (connection refused or reset,
 * 08 connection exception, 57P01 admin shutdown, 57P03 cannot connect now, pool timeouts) is worth another try.
 */
const PERMANENT = /^(22|23|42)/;

interface Write {
  what: string;
  run: () => Promise<unknown>;
}

/**
 * The single writer of one call's rows (turns, events, transfer, end reason, final state). Writes go out one at a
 * time in the order they were made, so the transcript's order is the call's. A failed write is retried with
 * exponential backoff (200 ms → 2 s) until it succeeds — a database restart mid-call loses nothing — unless the error
 * is permanent (bad data), which is logged and skipped. {@link close} ends the recorder: it waits for the queue up
 * to a deadline, and from then on nothing more is written for this call (late writes are counted and dropped), so
 * post-call jobs enqueued after it see the call's complete transcript. The caller never sees a write error.
 */
export class CallRecorder {
  /** Every turn recorded, in order (the in-memory transcript: summaries, final language and intent). */
  readonly turns: TurnInput[] = [];
  private readonly queue: Write[] = [];
  private pumping = false;
  private closed = false;
  private dropped = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly store: CallStore,
    private readonly callSid: string,
    private readonly log: Logger,
    o: RecorderOptions = {},
  ) {
    this.retryBaseMs = o.retryBaseMs ?? 200;
    this.retryMaxMs = o.retryMaxMs ?? 2_000;
  }

  /** Appends a turn to the transcript. */
  turn(t: TurnInput): void {
    if (this.closed) return void this.dropped++;
    this.turns.push(t);
    this.write('turn', () => this.store.addTurn(this.callSid, t));
  }

  /**
   * The short spoken summary for the human taking a transfer (src/analytics/call-summary.ts, the offline summarizer:
   * synchronous, well under a millisecond; never an LLM on the live path): the caller's main request, their last
   * words and `reason`. Stored with the transfer, sent in `call.transferred` and spoken by the whisper.
   */
  summary(reason?: string): string {
    return spokenTransferSummary(this.turns, reason);
  }

  /** Appends a call event (`payload`: JSON without secrets, audio or caller text). */
  event(type: string, payload: Record<string, unknown> = {}): void {
    this.write(`event ${type}`, () => this.store.addEvent(this.callSid, type, payload));
  }

  transfer(t: TransferRecord): void {
    this.write('transfer', () => this.store.setTransfer(this.callSid, t));
  }

  endReason(reason: string): void {
    this.write('end reason', () => this.store.setEndReason(this.callSid, reason));
  }

  /** What the call's providers consumed, per provider and kind (written once, at the end). */
  usage(records: UsageRecord[]): void {
    this.write('usage', () => this.store.addUsage(this.callSid, records));
  }

  /** The call's final state (dominant language, last intent); written after everything before it. */
  finish(f: { language: string | null; intent: string | null }): void {
    this.write('finish', () => this.store.finish(this.callSid, f));
  }

  /**
   * Waits until every write made so far is stored, or `deadlineMs` passes; then closes the recorder for good.
   * @returns true when everything was written.
   */
  async close(deadlineMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((r) => {
      if (!this.queue.length && !this.pumping) return r(true);
      this.drainWaiters.push(() => r(true));
    });
    const deadline = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), deadlineMs);
      timer.unref?.();
    });
    const ok = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    this.closed = true;
    this.dropped += this.queue.length;
    this.queue.length = 0;
    if (!ok || this.dropped) this.log.error({ dropped: this.dropped, deadlineMs }, 'call rows not written before the end-of-call deadline');
    return ok && this.dropped === 0;
  }

  private write(what: string, run: () => Promise<unknown>): void {
    if (this.closed) {
      this.dropped++;
      this.log.warn({ what }, 'write after the call was closed dropped');
      return;
    }
    this.queue.push({ what, run });
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.queue.length && !this.closed) {
      const w = this.queue[0];
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await w.run();
          break;
        } catch (err) {
          const code = String((err as { code?: unknown })?.code ?? '');
          if (PERMANENT.test(code)) {
            this.log.error({ what: w.what, code, err: (err as Error)?.message }, 'call row rejected by the database; skipped');
            break;
          }
          const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** attempt);
          if (attempt === 0) this.log.warn({ what: w.what, code, retryInMs: delay }, 'call row write failed; retrying');
          await new Promise((r) => setTimeout(r, delay).unref?.());
        }
      }
      if (this.queue[0] === w) this.queue.shift();
    }
    this.pumping = false;
    for (const d of this.drainWaiters.splice(0)) d();
  }
}
