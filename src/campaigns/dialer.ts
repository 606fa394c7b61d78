import twilio from 'twilio';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { CallerId } from '../domain/campaign';
import { DncRepo } from '../db/dnc';
import { DispatchRepo, type AttemptRow } from '../db/dispatch';
import { DialRefused, type DialerPort } from './dialer-port';
import { decideRetry } from './retry';
import { nextWindowOpening, windowOpen } from './window';
import type { DialBreaker } from './breaker';
import type { UsageBudgets } from './budget';

/** Twilio refused `calls.create` (recorded on the attempt as `failed`; the contact follows the `failed` ladder). */
export class DialFailed extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'DialFailed';
  }
}

/** The dial did not happen and must not (the claim expired, or every caller ID is at its daily cap). */
export class DialSkipped extends Error {
  constructor(readonly reason: 'claim_lost' | 'no_caller_id' | 'in_flight') {
    super(`dial skipped: ${reason}`);
    this.name = 'DialSkipped';
  }
}

/**
 * A twilio `httpClient` that sends every request to `baseUrl`'s origin instead of api.twilio.com (TWILIO_API_BASE_URL:
 * the repo's REST double, `npm run demo`'s simulator, or any Twilio emulator), keeping path and query.
 */
export function rebasedRequestClient(baseUrl: string, inner: twilio.RequestClient = new twilio.RequestClient()): twilio.RequestClient {
  const origin = new URL(baseUrl).origin;
  if (origin === 'https://api.twilio.com') return inner;
  const wrapper = {
    request(opts: { uri: string } & Record<string, unknown>) {
      const u = new URL(opts.uri);
      return inner.request({ ...opts, uri: origin + u.pathname + u.search } as any);
    },
  };
  return wrapper as unknown as twilio.RequestClient;
}

/** Options of {@link TwilioDialer}. */
export interface TwilioDialerOptions {
  db: Knex;
  accountSid: string;
  authToken: string;
  /** Our public origin (webhook URLs are built on it). */
  publicBaseUrl: string;
  /** TWILIO_API_BASE_URL (default https://api.twilio.com). */
  apiBaseUrl?: string;
  /** Transport (tests inject the REST double); wrapped to honour `apiBaseUrl`. */
  httpClient?: twilio.RequestClient;
  /** Ring timeout (s) before Twilio reports no-answer (RING_TIMEOUT_S, default 25). */
  ringTimeoutS: number;
  /** Lease of an in-progress call (ms): ring timeout + the longest call + margin; an expired lease frees the slot. */
  inProgressLeaseMs: number;
  breaker?: DialBreaker;
  /**
   * Monthly usage budgets (src/campaigns/budget.ts): while one is used up, no new dial is placed — the attempt is
   * released (a campaign contact is retried after `budgetRetryMs`, an ad-hoc call is refused) with the reason.
   */
  budget?: Pick<UsageBudgets, 'blockedBy'>;
  /** When a contact held back by a used-up budget is tried again (ms; default 300 000). */
  budgetRetryMs?: number;
  /** The DNC list (default: DncRepo over `db`); tests inject a failing one. */
  dnc?: Pick<DncRepo, 'isListed'>;
  logger?: Logger;
  now?: () => Date;
  /** REST timeout (ms; default 15 000). */
  timeoutMs?: number;
}

/**
 * Chooses a caller ID: among the pool's numbers below their daily cap, the one least used today (ties: pool order),
 * which rotates through the pool. "Today" = since 00:00 UTC (one reset instant for every number, whatever the
 * callee's zone); usage counts every attempt handed to Twilio from that number, campaigns and ad-hoc calls alike.
 */
export function chooseCallerId(pool: readonly CallerId[], usage: ReadonlyMap<string, number>): string | null {
  let best: { number: string; used: number } | null = null;
  for (const c of pool) {
    const used = usage.get(c.number) ?? 0;
    if (c.dailyCap != null && used >= c.dailyCap) continue;
    if (!best || used < best.used) best = { number: c.number, used };
  }
  return best?.number ?? null;
}

/**
 * The outbound dialer (issue 11 item 5) over Twilio `calls.create` (`POST /2010-04-01/Accounts/{Sid}/Calls.json`,
 * PROTOCOLS.md "Twilio REST"). For an attempt row already written (by the dispatcher's claim or `POST /api/calls`):
 * checks the campaign is running and the window still open in every zone of the contact, that no provider's monthly
 * usage budget is used up (else the attempt is released with the reason: new outbound dials stop, inbound calls go
 * on), re-checks the DNC list (listed → contact `suppressed`; the check fails → no dial,
 * the claim is given back), picks a caller ID, marks the attempt `sending` (only while the claim's lease holds),
 * places the call with the outbound voice/status/AMD webhooks and the ring timeout, and records the CallSid (contact →
 * `in-progress`). A Twilio error ends the attempt `failed` (contact per the `failed` ladder) and feeds the breaker.
 * Idempotent per attempt: a second `dial` returns the recorded CallSid and never dials again.
 */
export class TwilioDialer implements DialerPort {
  private readonly client: twilio.Twilio;
  private readonly repo: DispatchRepo;
  private readonly dnc: Pick<DncRepo, 'isListed'>;
  private readonly now: () => Date;

  constructor(private readonly o: TwilioDialerOptions) {
    const httpClient = rebasedRequestClient(o.apiBaseUrl ?? 'https://api.twilio.com', o.httpClient ?? new twilio.RequestClient());
    this.client = twilio(o.accountSid, o.authToken, { httpClient, timeout: o.timeoutMs ?? 15_000 });
    this.repo = new DispatchRepo(o.db);
    this.dnc = o.dnc ?? new DncRepo(o.db);
    this.now = o.now ?? (() => new Date());
  }

  /**
   * Dials attempt `attemptId`. `owner`: the dispatcher whose lease must still hold.
   * @throws DialRefused (dnc, dnc_check_failed, campaign_not_running, window, budget), DialSkipped (claim lost, caller IDs capped,
   *   the attempt is already being dialed), DialFailed (Twilio refused; recorded), Error (unknown attempt).
   */
  async dial(attemptId: string, o: { owner?: string } = {}): Promise<{ callSid: string }> {
    const a = await this.repo.attempt(attemptId);
    if (!a) throw new Error(`unknown attempt ${attemptId}`);
    if (a.callSid) return { callSid: a.callSid };
    if (a.outcome === 'failed' && a.error) throw new DialFailed(a.error);
    if (a.status !== 'requested') throw new DialSkipped('in_flight');
    const campaign = a.campaignId ? await this.repo.campaign(a.campaignId) : null;
    if (campaign && campaign.state !== 'running') {
      await this.repo.release(a.id, this.now(), this.now(), 'campaign not running');
      throw new DialRefused('campaign_not_running', `campaign ${campaign.id} is ${campaign.state}`);
    }
    if (campaign && a.contactId) {
      // The claim checked the window; a pacing wait may have carried the dial past its end.
      const zones = await this.repo.contactZones(a.contactId);
      const at = this.now();
      if (!windowOpen(campaign.window, zones, at)) {
        await this.repo.release(a.id, nextWindowOpening(campaign.window, zones, at) ?? new Date(at.getTime() + 86_400_000), at, 'outside the calling window');
        throw new DialRefused('window', 'the calling window is closed in one of the contact\'s time zones');
      }
    }
    const overBudget = await this.o.budget?.blockedBy();
    if (overBudget) {
      const at = this.now();
      await this.repo.release(a.id, new Date(at.getTime() + (this.o.budgetRetryMs ?? 300_000)), at, overBudget);
      this.o.logger?.warn({ attemptId, campaignId: a.campaignId, reason: overBudget }, 'dial refused: usage budget');
      throw new DialRefused('budget', overBudget);
    }
    let listed: boolean;
    try {
      listed = await this.dnc.isListed(a.to);
    } catch (err) {
      this.o.logger?.warn({ attemptId, err: (err as Error).message }, 'DNC check failed: not dialing');
      await this.repo.release(a.id, new Date(this.now().getTime() + 60_000), this.now(), 'dnc check failed').catch(() => undefined);
      throw new DialRefused('dnc_check_failed', 'the do-not-call check could not run');
    }
    if (listed) {
      await this.repo.suppress(a.id, this.now());
      throw new DialRefused('dnc', 'number is on the do-not-call list');
    }
    const begun = await this.repo.beginSending(a.id, this.now(), (trx, row) => this.pickFrom(trx, row, campaign?.callerIds ?? []), o.owner);
    if ('refused' in begun) {
      if (begun.refused === 'no_caller_id') await this.repo.release(a.id, nextUtcMidnight(this.now()), this.now(), 'every caller ID is at its daily cap');
      throw new DialSkipped(begun.refused);
    }
    return this.place(a, begun.from);
  }

  private async pickFrom(trx: Knex.Transaction, a: AttemptRow, pool: CallerId[]): Promise<string | null> {
    if (a.from) return a.from;
    if (!pool.length) return null;
    const usage = await this.repo.callerIdUsage(pool.map((c) => c.number), this.now(), trx);
    return chooseCallerId(pool, usage);
  }

  private async place(a: AttemptRow, from: string): Promise<{ callSid: string }> {
    const base = this.o.publicBaseUrl;
    const q = `attemptId=${encodeURIComponent(a.id)}`;
    let call: { sid: string; status?: string };
    try {
      call = await this.client.calls.create({
        to: a.to,
        from,
        url: `${base}/twilio/outbound/voice?${q}`,
        statusCallback: `${base}/twilio/outbound/status?${q}`,
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        statusCallbackMethod: 'POST',
        machineDetection: 'DetectMessageEnd',
        asyncAmd: 'true',
        asyncAmdStatusCallback: `${base}/twilio/amd`,
        asyncAmdStatusCallbackMethod: 'POST',
        timeout: this.o.ringTimeoutS,
      });
    } catch (err: any) {
      const status: number | undefined = typeof err?.status === 'number' ? err.status : undefined;
      const code: number | undefined = typeof err?.code === 'number' ? err.code : undefined;
      const msg = `Twilio calls.create failed${status ? ` (HTTP ${status}${code ? `, code ${code}` : ''})` : ''}: ${String(err?.message ?? err).slice(0, 300)}`;
      const now = this.now();
      await this.repo.settle(a.id, { outcome: 'failed', status: 'failed', error: msg, now }, decideRetry);
      this.o.logger?.warn({ attemptId: a.id, campaignId: a.campaignId, status, code }, 'dial failed');
      if (a.campaignId && this.o.breaker) await this.o.breaker.afterFailure(a.campaignId, msg, now);
      throw new DialFailed(msg, status, code);
    }
    await this.repo.markInProgress(a.id, call.sid, this.now(), this.o.inProgressLeaseMs, call.status ?? 'queued');
    return { callSid: call.sid };
  }
}

function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/**
 * Lease of a call Twilio has accepted (ms): the ring timeout + the longest call (MAX_CALL_DURATION_MS; 0 = no cap →
 * 1 h) + 5 min margin. If its terminal callback never comes, the slot frees when this expires.
 */
export function inProgressLeaseMs(ringTimeoutS: number, maxCallDurationMs: number): number {
  return ringTimeoutS * 1000 + (maxCallDurationMs > 0 ? maxCallDurationMs : 3_600_000) + 300_000;
}
