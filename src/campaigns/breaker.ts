import type { Logger } from 'pino';
import type { DispatchRepo } from '../db/dispatch';

/**
 * The dial-failure circuit breaker (issue 11 item 3): when at least `threshold` of a campaign's last `window` dials
 * failed at `calls.create` (Twilio refused the request, e.g. an unverified caller ID — error 21210/21212), the
 * campaign is paused with `pause_reason` recording why. The window is read from `call_attempts`, so it is shared by
 * every dispatcher and survives restarts. An operator resumes the campaign through the API.
 */
export interface BreakerOptions {
  /** Failures within the window that trip it (default 5). */
  threshold: number;
  /** Dials looked at, newest first (default 10). */
  window: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, window: 10 };

/** True when `results` (newest first, true = failure) has ≥ threshold failures among its first `window`. */
export function breakerTrips(results: readonly boolean[], o: BreakerOptions): boolean {
  return results.slice(0, o.window).filter(Boolean).length >= o.threshold;
}

/** Checks the breaker after each dial failure and pauses the campaign when it trips. */
export class DialBreaker {
  constructor(
    private readonly repo: DispatchRepo,
    private readonly o: BreakerOptions = DEFAULT_BREAKER,
    private readonly logger?: Logger,
  ) {}

  /**
   * Call after a failed `calls.create` of `campaignId` (already recorded on its attempt).
   * @returns true when this call paused the campaign.
   */
  async afterFailure(campaignId: string, lastError: string, now: Date): Promise<boolean> {
    const results = await this.repo.recentDialResults(campaignId, this.o.window);
    if (!breakerTrips(results, this.o)) return false;
    const n = results.slice(0, this.o.window).filter(Boolean).length;
    const reason = `dial failures: ${n} of the last ${Math.min(results.length, this.o.window)} dials failed (last: ${lastError.slice(0, 300)})`;
    const paused = await this.repo.pause(campaignId, reason, now);
    if (paused) this.logger?.warn({ campaignId, reason }, 'campaign paused by the dial-failure breaker');
    return paused;
  }
}
