import type { Logger } from 'pino';
import type { DispatchRepo, DispatchCampaign } from '../db/dispatch';
import { DialRefused } from './dialer-port';
import { DialFailed, DialSkipped } from './dialer';
import type { DialPacer } from './pacing';
import { decideRetry } from './retry';
import { nextWindowOpening, windowOpen } from './window';

/** What the dispatcher needs of a dialer (TwilioDialer; tests use a recording fake). */
export interface Dialer {
  dial(attemptId: string, o?: { owner?: string }): Promise<{ callSid: string }>;
}

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  repo: DispatchRepo;
  dialer: Dialer;
  /** CPS spacing shared by all dispatchers (null: no spacing, e.g. unit tests). */
  pacer: DialPacer | null;
  /** This dispatcher's id, written to `lease_owner` (unique per process). */
  owner: string;
  /** Claim lease (ms, DIAL_LEASE_MS): must cover the pacing wait (≤ one interval) and calls.create. */
  leaseMs: number;
  /** Tick period (ms, DISPATCH_INTERVAL_MS); each tick waits a random 0–20 % extra so dispatchers spread out. */
  intervalMs: number;
  /** OUTBOUND_MAX_CONCURRENT: outbound calls in flight across every campaign (leave room for inbound). */
  globalMax: number;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** What one tick did. */
export interface TickReport {
  claimed: number;
  recovered: number;
  completed: string[];
}

/**
 * The campaign dispatcher (issue 11 item 4). Each tick: recovers expired leases (src/db/dispatch.ts
 * `recoverExpired`), completes finished campaigns, then for every running campaign claims due contacts one at a time
 * (the count under `maxConcurrent` / OUTBOUND_MAX_CONCURRENT and the claim are one transaction under an advisory
 * lock, so several dispatchers never exceed the ceilings), reserves each dial's CPS slot in Redis (shared spacing of
 * 1/cps s per campaign) and dials when the slot comes. It stops claiming a campaign for this tick when a slot lies
 * beyond the next tick. Dials run in the background; {@link stop} waits for them.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopping = false;
  private readonly dials = new Set<Promise<void>>();
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? (() => new Date());
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Starts ticking every `intervalMs` (+ jitter). */
  start(): void {
    this.stopping = false;
    const loop = () => {
      if (this.stopping) return;
      this.running = this.tick()
        .catch((err) => this.o.logger?.warn({ err: (err as Error).message, owner: this.o.owner }, 'dispatcher tick failed'))
        .finally(() => {
          this.running = null;
          if (!this.stopping) this.timer = setTimeout(loop, this.o.intervalMs * (1 + Math.random() * 0.2));
        });
    };
    loop();
  }

  /** Stops ticking and waits for the current tick and every dial it started. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.settled();
  }

  /** Resolves when every dial started so far has finished (tests). */
  async settled(): Promise<void> {
    while (this.dials.size) await Promise.allSettled([...this.dials]);
  }

  /** One dispatch pass (see the class doc). */
  async tick(): Promise<TickReport> {
    const now = this.now();
    const recovered = await this.o.repo.recoverExpired(now, decideRetry);
    for (const r of recovered) this.o.logger?.info({ contactId: r.contactId, action: r.action }, 'expired dial lease recovered');
    const completed = await this.o.repo.completeFinished(now);
    let claimed = 0;
    for (const c of await this.o.repo.runningCampaigns()) {
      if (this.stopping) break;
      claimed += await this.dispatchCampaign(c);
    }
    return { claimed, recovered: recovered.length, completed };
  }

  private async dispatchCampaign(c: DispatchCampaign): Promise<number> {
    let n = 0;
    const horizon = this.now().getTime() + this.o.intervalMs;
    while (!this.stopping) {
      const now = this.now();
      const { claims } = await this.o.repo.claim(c, {
        owner: this.o.owner,
        leaseMs: this.o.leaseMs,
        now,
        globalMax: this.o.globalMax,
        max: 1,
        isOpen: (zones) => windowOpen(c.window, zones, now),
        nextOpening: (zones) => nextWindowOpening(c.window, zones, now),
      });
      if (!claims.length) break;
      n++;
      let slot = now.getTime();
      if (this.o.pacer) {
        try {
          slot = await this.o.pacer.reserve(c.id, c.cps, this.now().getTime());
        } catch (err) {
          // No CPS slot (Redis down): give the claim back rather than dial unpaced.
          this.o.logger?.warn({ campaignId: c.id, err: (err as Error).message }, 'dial pacing unavailable: claim released');
          await this.o.repo.release(claims[0].attemptId, now, now, 'pacing unavailable');
          break;
        }
      }
      this.launch(claims[0].attemptId, slot);
      if (slot > horizon) break;
    }
    return n;
  }

  private launch(attemptId: string, slotMs: number): void {
    const p = (async () => {
      const wait = slotMs - this.now().getTime();
      if (wait > 0) await this.sleep(wait);
      try {
        await this.o.dialer.dial(attemptId, { owner: this.o.owner });
      } catch (err) {
        const expected = err instanceof DialRefused || err instanceof DialSkipped || err instanceof DialFailed;
        this.o.logger?.[expected ? 'info' : 'warn']({ attemptId, err: (err as Error).message }, 'dial not placed');
      }
    })();
    this.dials.add(p);
    void p.finally(() => this.dials.delete(p));
  }
}
