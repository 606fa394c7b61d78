import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { emitWebhookEvent } from './webhook-outbox';
import type { CallerId, CallingWindow, RetryPolicy } from '../domain/campaign';

/**
 * The dispatcher's queries on `campaign_contacts` and `call_attempts` (issue 11 item 4): claims with leases, the
 * in-flight count under the concurrency ceilings, the dialer's state transitions, settling an attempt, lease-expiry
 * recovery and campaign completion.
 *
 * Concurrency ceilings across dispatchers: every claim runs in one transaction that first takes the transaction-
 * scoped advisory lock {@link DISPATCH_LOCK_KEY} (`pg_advisory_xact_lock`), then counts in-flight calls (the
 * campaign's and everyone's) and claims at most the free slots. The count and the claim are therefore atomic across
 * every dispatcher process; one global lock (not one per campaign) is enough because the global ceiling spans all
 * campaigns anyway, and a claim holds it for a couple of short statements. Rows are still taken with
 * `FOR UPDATE SKIP LOCKED` so API writers holding a contact row never block the claim.
 *
 * In flight = contacts in `dialing`/`in-progress` with an unexpired lease, plus ad-hoc attempts (`POST /api/calls`,
 * no contact) not yet ended and requested within {@link ADHOC_INFLIGHT_MS}. A slot frees when the attempt settles
 * (terminal status callback or dial failure) or its lease expires.
 */
export const DISPATCH_LOCK_KEY = 0x0d15_9a7c;
/** Ad-hoc attempts older than this no longer count as in flight (their callbacks were lost). */
export const ADHOC_INFLIGHT_MS = 2 * 3600_000;
const LIVE_ATTEMPT = ['requested', 'sending', 'queued', 'initiated', 'ringing', 'in-progress'];

/** What the dispatcher needs of a running campaign. */
export interface DispatchCampaign {
  id: string;
  agentId: string;
  callerIds: CallerId[];
  window: CallingWindow;
  maxConcurrent: number;
  cps: number;
  retry: RetryPolicy;
}

/** A claimed contact with its fresh attempt (the attempt id is the dial's idempotency key). */
export interface Claim {
  attemptId: string;
  contactId: string;
  campaignId: string;
  phone: string;
  attemptNo: number;
}

/** The call_attempts row as the dialer reads it. */
export interface AttemptRow {
  id: string;
  campaignId: string | null;
  contactId: string | null;
  attemptNo: number;
  to: string;
  from: string;
  agentId: string;
  callSid: string | null;
  status: string;
  outcome: string | null;
  error: string | null;
  answeredBy: string | null;
}

/** Input of a settle decision: everything the retry policy needs. */
export interface SettleContext {
  outcome: string;
  attemptsUsed: number;
  /** Outcomes of the contact's earlier attempts (oldest first). */
  previousOutcomes: string[];
  retry: RetryPolicy;
  window: CallingWindow;
  zones: string[];
  now: Date;
}
/** A settle decision (see src/campaigns/retry.ts `nextAttempt`). */
export type SettleDecision = { at: Date } | { final: 'done' | 'failed' | 'opted-out' };

const toCampaign = (r: any): DispatchCampaign => ({
  id: r.id,
  agentId: r.agent_id,
  callerIds: r.caller_ids,
  window: r.window,
  maxConcurrent: r.max_concurrent,
  cps: Number(r.cps),
  retry: r.retry,
});
const toAttempt = (r: any): AttemptRow => ({
  id: r.id,
  campaignId: r.campaign_id,
  contactId: r.contact_id == null ? null : String(r.contact_id),
  attemptNo: r.attempt_no,
  to: r.to_number,
  from: r.from_number,
  agentId: r.agent_id,
  callSid: r.call_sid,
  status: r.status,
  outcome: r.outcome,
  error: r.error,
  answeredBy: r.answered_by,
});

/**
 * Locks an attempt and its contact (if any) in the one order every writer uses — contact row first, then attempt
 * row — so settling, recovery, the dialer and callbacks never deadlock one another.
 */
/** Writes `campaign.contact.completed` for a contact that reached a final state while settling attempt `a` (its campaign's sequence). */
async function emitContactCompleted(t: Knex.Transaction, a: any, c: any, state: 'done' | 'failed' | 'opted-out', outcome: string, callSid: string | null, now: Date): Promise<void> {
  await emitWebhookEvent(t, {
    type: 'campaign.contact.completed',
    subject: { kind: 'campaign', id: a.campaign_id },
    data: { campaignId: a.campaign_id, contactId: String(c.id), state, outcome, callSid, attempts: c.attempts },
    dedupeKey: `campaign.contact.completed:${c.id}`,
    at: now,
  });
}

async function lockAttempt(trx: Knex.Transaction, attemptId: string): Promise<{ a: any; c: any } | null> {
  const peek = await trx('call_attempts').where({ id: attemptId }).first('contact_id');
  if (!peek) return null;
  const c = peek.contact_id != null ? await trx('campaign_contacts').where({ id: peek.contact_id }).forUpdate().first() : null;
  const a = await trx('call_attempts').where({ id: attemptId }).forUpdate().first();
  return a ? { a, c } : null;
}

/** Dispatcher queries; every method takes `now` (injected clock). */
export class DispatchRepo {
  constructor(private readonly db: Knex) {}

  /** Campaigns in state `running`. */
  async runningCampaigns(): Promise<DispatchCampaign[]> {
    return (await this.db('campaigns').where({ state: 'running' }).orderBy('id')).map(toCampaign);
  }

  /** One campaign (any state) or null. */
  async campaign(id: string): Promise<(DispatchCampaign & { state: string }) | null> {
    const r = await this.db('campaigns').where({ id }).first();
    return r ? { ...toCampaign(r), state: r.state } : null;
  }

  /** In-flight counts: this campaign's and the global one (all campaigns + live ad-hoc attempts). */
  async inFlight(trx: Knex | Knex.Transaction, campaignId: string, now: Date): Promise<{ campaign: number; global: number }> {
    const { rows } = await trx.raw(
      `SELECT count(*) FILTER (WHERE campaign_id = ?)::int AS mine, count(*)::int AS total
         FROM campaign_contacts WHERE state IN ('dialing','in-progress') AND lease_expires_at > ?`,
      [campaignId, now],
    );
    const adhoc = await trx('call_attempts')
      .whereNull('contact_id')
      .whereIn('status', LIVE_ATTEMPT)
      .whereNull('outcome')
      .where('requested_at', '>', new Date(now.getTime() - ADHOC_INFLIGHT_MS))
      .count<{ n: string }[]>({ n: '*' });
    return { campaign: rows[0].mine, global: rows[0].total + Number(adhoc[0].n) };
  }

  /**
   * Claims up to `max` due contacts of a running campaign whose window is open (`isOpen(zones)`), within the free
   * slots under `maxConcurrent` and `globalMax`, atomically with the count (see the class doc). Each claimed contact
   * → `dialing`, `lease_owner`/`lease_expires_at`, `attempts + 1`, and a `call_attempts` row (status `requested`,
   * `from_number` '' until the dialer picks a caller ID) in the SAME transaction. Due contacts found outside their
   * window are deferred to `nextOpening(zones)` (or a day later when it never opens soon) so they are not rescanned.
   */
  async claim(
    c: DispatchCampaign,
    o: { owner: string; leaseMs: number; now: Date; globalMax: number; max: number; isOpen: (zones: string[]) => boolean; nextOpening: (zones: string[]) => Date | null },
  ): Promise<{ claims: Claim[]; blockedBy: 'campaign' | 'global' | null }> {
    return this.db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [DISPATCH_LOCK_KEY]);
      const camp = await trx('campaigns').where({ id: c.id }).first('state');
      if (camp?.state !== 'running') return { claims: [], blockedBy: null };
      const n = await this.inFlight(trx, c.id, o.now);
      const freeCampaign = c.maxConcurrent - n.campaign;
      const freeGlobal = o.globalMax - n.global;
      const want = Math.min(o.max, freeCampaign, freeGlobal);
      if (want <= 0) return { claims: [], blockedBy: freeCampaign <= 0 ? 'campaign' : 'global' };
      const { rows } = await trx.raw(
        `SELECT id, phone, timezones, attempts, variables, name FROM campaign_contacts
          WHERE campaign_id = ? AND state IN ('pending','retry-scheduled') AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
          ORDER BY COALESCE(next_attempt_at, created_at), id
          LIMIT ? FOR UPDATE SKIP LOCKED`,
        [c.id, o.now, Math.max(want * 4, 20)],
      );
      const claims: Claim[] = [];
      for (const r of rows) {
        if (!o.isOpen(r.timezones)) {
          const next = o.nextOpening(r.timezones) ?? new Date(o.now.getTime() + 86_400_000);
          await trx('campaign_contacts').where({ id: r.id }).update({ next_attempt_at: next, updated_at: o.now });
          continue;
        }
        if (claims.length >= want) continue;
        const attemptNo = r.attempts + 1;
        const attemptId = randomUUID();
        await trx('campaign_contacts')
          .where({ id: r.id })
          .update({ state: 'dialing', lease_owner: o.owner, lease_expires_at: new Date(o.now.getTime() + o.leaseMs), attempts: attemptNo, next_attempt_at: null, updated_at: o.now });
        const variables = { ...(r.variables ?? {}), ...(r.name ? { name: r.name } : {}) };
        await trx('call_attempts').insert({
          id: attemptId,
          campaign_id: c.id,
          contact_id: r.id,
          attempt_no: attemptNo,
          to_number: r.phone,
          from_number: '',
          agent_id: c.agentId,
          status: 'requested',
          variables: JSON.stringify(variables),
          requested_at: o.now,
        });
        claims.push({ attemptId, contactId: String(r.id), campaignId: c.id, phone: r.phone, attemptNo });
      }
      return { claims, blockedBy: null };
    });
  }

  /** The attempt row, or null. */
  async attempt(id: string, trx: Knex | Knex.Transaction = this.db): Promise<AttemptRow | null> {
    const r = await trx('call_attempts').where({ id }).first();
    return r ? toAttempt(r) : null;
  }

  /** The IANA zones of a contact ([] when it does not exist). */
  async contactZones(contactId: string): Promise<string[]> {
    return (await this.db('campaign_contacts').where({ id: contactId }).first('timezones'))?.timezones ?? [];
  }

  /** The attempt with this Twilio CallSid, or null. */
  async attemptBySid(callSid: string): Promise<AttemptRow | null> {
    const r = await this.db('call_attempts').where({ call_sid: callSid }).first();
    return r ? toAttempt(r) : null;
  }

  /**
   * Marks an attempt as being handed to Twilio (`requested` → `sending`) with its caller ID, only while its contact
   * (if any) is still `dialing` under an unexpired lease (of `owner`, when given). The contact row lock serializes
   * this with lease recovery, so an expired claim is never dialed. `pickFrom` chooses the caller ID inside the same
   * transaction, under the campaign's advisory lock (so two dispatchers never both take a caller ID's last slot of
   * its daily cap); it returns null when none is usable.
   * @returns `{ from }`, or `{ refused }` → do not dial.
   */
  async beginSending(
    attemptId: string,
    now: Date,
    pickFrom: (trx: Knex.Transaction, a: AttemptRow) => Promise<string | null>,
    owner?: string,
  ): Promise<{ from: string } | { refused: 'claim_lost' | 'no_caller_id' }> {
    return this.db.transaction(async (trx) => {
      const raw = await trx('call_attempts').where({ id: attemptId }).first('campaign_id');
      if (raw?.campaign_id) await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [DISPATCH_LOCK_KEY, raw.campaign_id]);
      const locked = await lockAttempt(trx, attemptId);
      const r = locked?.a;
      if (!r || r.status !== 'requested') return { refused: 'claim_lost' as const };
      if (r.contact_id != null) {
        const c = locked!.c;
        if (!c || c.state !== 'dialing' || c.attempts !== r.attempt_no || !(new Date(c.lease_expires_at) > now)) return { refused: 'claim_lost' as const };
        if (owner && c.lease_owner !== owner) return { refused: 'claim_lost' as const };
      }
      const from = await pickFrom(trx, toAttempt(r));
      if (!from) return { refused: 'no_caller_id' as const };
      await trx('call_attempts').where({ id: attemptId }).update({ status: 'sending', from_number: from });
      return { from };
    });
  }

  /**
   * Gives a claim back without dialing (campaign paused, DNC check could not run, caller IDs at their cap): the
   * attempt row is deleted, the contact's attempt refunded and it is due again at `dueAt`. No-op unless the attempt is
   * still `requested` and its contact `dialing` on it. An ad-hoc attempt (no contact) is ended `canceled` instead.
   */
  async release(attemptId: string, dueAt: Date, now: Date, reason: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const locked = await lockAttempt(trx, attemptId);
      const a = locked?.a;
      if (!a || a.status !== 'requested') return;
      if (a.contact_id == null) {
        await trx('call_attempts').where({ id: attemptId }).update({ status: 'canceled', outcome: 'canceled', error: reason, ended_at: now });
        return;
      }
      const c = locked!.c;
      await trx('call_attempts').where({ id: attemptId }).delete();
      if (!c || c.state !== 'dialing' || c.attempts !== a.attempt_no) return;
      await trx('campaign_contacts')
        .where({ id: c.id })
        .update({ state: c.attempts > 1 ? 'retry-scheduled' : 'pending', attempts: c.attempts - 1, next_attempt_at: dueAt, lease_owner: null, lease_expires_at: null, updated_at: now });
    });
  }

  /**
   * The number is on the DNC list: the attempt ends `canceled` (outcome `dnc`, never dialed) and its contact becomes
   * `suppressed` (never dialed again) unless it is already final.
   */
  async suppress(attemptId: string, now: Date): Promise<void> {
    await this.db.transaction(async (trx) => {
      const a = (await lockAttempt(trx, attemptId))?.a;
      if (!a || a.outcome) return;
      await trx('call_attempts').where({ id: attemptId }).update({ status: 'canceled', outcome: 'dnc', error: 'number is on the do-not-call list', ended_at: now });
      if (a.contact_id == null) return;
      await trx('campaign_contacts')
        .where({ id: a.contact_id })
        .whereNotIn('state', ['done', 'failed', 'opted-out', 'suppressed'])
        .update({ state: 'suppressed', last_outcome: 'dnc', lease_owner: null, lease_expires_at: null, next_attempt_at: null, updated_at: now });
    });
  }

  /**
   * Records Twilio's CallSid on the attempt and moves its contact `dialing` → `in-progress` with the lease extended
   * to `now + leaseMs` (ring timeout + longest call), unless a callback already settled it. Idempotent.
   */
  async markInProgress(attemptId: string, callSid: string, now: Date, leaseMs: number, status = 'queued'): Promise<void> {
    await this.db.transaction(async (trx) => {
      const a = (await lockAttempt(trx, attemptId))?.a;
      if (!a) return;
      await trx('call_attempts')
        .where({ id: attemptId })
        .update({ call_sid: a.call_sid ?? callSid, status: a.status === 'sending' || a.status === 'requested' ? status : a.status });
      if (a.contact_id == null || a.outcome) return;
      await trx('campaign_contacts')
        .where({ id: a.contact_id, state: 'dialing', attempts: a.attempt_no })
        .update({ state: 'in-progress', last_call_sid: callSid, lease_expires_at: new Date(now.getTime() + leaseMs), updated_at: now });
    });
  }

  /**
   * Applies a (non-decisive) status report in SequenceNumber order: ignored when `sequence` is not newer than the
   * stored one or the attempt already ended. @returns whether it was applied.
   */
  async applyStatus(attemptId: string, status: string, sequence: number, callSid: string | null, now: Date): Promise<boolean> {
    const patch: Record<string, unknown> = { status, status_sequence: sequence };
    if (status === 'in-progress') patch.answered_at = now;
    if (callSid) patch.call_sid = this.db.raw('COALESCE(call_sid, ?)', [callSid]);
    const n = await this.db('call_attempts').where({ id: attemptId }).where('status_sequence', '<', sequence).whereNull('outcome').update(patch);
    return n > 0;
  }

  /**
   * Ends an attempt with `outcome` (first report wins: an attempt already settled is left alone → false) and moves
   * its contact by `decide` (the retry policy): `{ at }` → `retry-scheduled` at that instant, `{ final }` → that
   * state; the lease is cleared either way (the slot frees). A contact already in a final state (e.g. `opted-out`
   * by an earlier opt-out) or already on a newer attempt is never overwritten; an opt-out during the call (an
   * `opt_out` call event) makes it `opted-out`; a callback booked during the call (a
   * `callback` call event with `booked: true`) schedules the contact at the booked instant instead of the policy.
   */
  async settle(
    attemptId: string,
    s: { outcome: string; now: Date; status?: string; sequence?: number; error?: string | null; answeredBy?: string | null; callSid?: string | null },
    decide: (ctx: SettleContext) => SettleDecision,
    trx?: Knex.Transaction,
  ): Promise<{ settled: boolean; contactState?: string }> {
    const run = async (t: Knex.Transaction) => {
      const locked = await lockAttempt(t, attemptId);
      const a = locked?.a;
      if (!a || a.outcome) return { settled: false };
      const patch: Record<string, unknown> = { outcome: s.outcome, ended_at: s.now };
      if (s.status) patch.status = s.status;
      if (s.sequence !== undefined && s.sequence > a.status_sequence) patch.status_sequence = s.sequence;
      if (s.error !== undefined) patch.error = s.error;
      if (s.answeredBy) patch.answered_by = s.answeredBy;
      if (s.callSid && !a.call_sid) patch.call_sid = s.callSid;
      await t('call_attempts').where({ id: attemptId }).update(patch);
      if (a.contact_id == null) return { settled: true };
      const c = locked!.c;
      if (!c) return { settled: true };
      const stale = c.attempts !== a.attempt_no || ['done', 'failed', 'opted-out', 'suppressed'].includes(c.state);
      if (stale) {
        if (c.attempts === a.attempt_no) await t('campaign_contacts').where({ id: c.id }).update({ lease_owner: null, lease_expires_at: null, updated_at: s.now });
        return { settled: true, contactState: c.state };
      }
      // The callee opted out during this call (outbound-outcomes.ts `optOut`): never again, whatever the outcome.
      const optedOut = a.call_sid ? await t('call_events').where({ call_sid: a.call_sid, type: 'opt_out' }).first('id') : null;
      if (optedOut) {
        await t('campaign_contacts')
          .where({ id: c.id })
          .update({ state: 'opted-out', next_attempt_at: null, lease_owner: null, lease_expires_at: null, last_outcome: 'opted-out', last_call_sid: a.call_sid, updated_at: s.now });
        await emitContactCompleted(t, a, c, 'opted-out', 'opted-out', a.call_sid ?? null, s.now);
        return { settled: true, contactState: 'opted-out' };
      }
      // A callback the callee booked during this call (outbound-outcomes.ts): schedule exactly that, not the policy.
      const booked = a.call_sid ? await t('call_events').where({ call_sid: a.call_sid, type: 'callback' }).orderBy('id', 'desc').first('payload') : null;
      if (booked?.payload?.booked) {
        await t('campaign_contacts')
          .where({ id: c.id })
          .update({ state: 'retry-scheduled', next_attempt_at: new Date(booked.payload.at), lease_owner: null, lease_expires_at: null, last_outcome: 'callback', last_call_sid: a.call_sid, updated_at: s.now });
        return { settled: true, contactState: 'retry-scheduled' };
      }
      const camp = await t('campaigns').where({ id: a.campaign_id }).first('retry', 'window');
      const prev = await t('call_attempts').where({ contact_id: c.id }).where('attempt_no', '<', a.attempt_no).orderBy('attempt_no').select('outcome');
      const d = decide({
        outcome: s.outcome,
        attemptsUsed: c.attempts,
        previousOutcomes: prev.map((p: { outcome: string | null }) => p.outcome ?? 'unknown'),
        retry: camp.retry,
        window: camp.window,
        zones: c.timezones,
        now: s.now,
      });
      const state = 'at' in d ? 'retry-scheduled' : d.final;
      await t('campaign_contacts')
        .where({ id: c.id })
        .update({
          state,
          next_attempt_at: 'at' in d ? d.at : null,
          lease_owner: null,
          lease_expires_at: null,
          last_outcome: s.outcome,
          last_call_sid: s.callSid ?? a.call_sid ?? c.last_call_sid,
          updated_at: s.now,
        });
      if (state !== 'retry-scheduled') await emitContactCompleted(t, a, c, state, s.outcome, s.callSid ?? a.call_sid ?? null, s.now);
      return { settled: true, contactState: state };
    };
    return trx ? run(trx) : this.db.transaction(run);
  }

  /**
   * Lease-expiry recovery: contacts in `dialing`/`in-progress` whose lease expired. An attempt still `requested`
   * (never handed to Twilio: `beginSending` did not run) is deleted and the contact is due again at once with its
   * attempt refunded. Otherwise (`sending` without a CallSid — a crash between calls.create and recording it — or a
   * call whose terminal callback never came) nobody knows whether the phone rang: the attempt ends `unknown` and the
   * contact follows the retry policy (`decide`, which applies a safety delay). @returns the contacts recovered.
   */
  async recoverExpired(now: Date, decide: (ctx: SettleContext) => SettleDecision, limit = 100): Promise<{ contactId: string; action: 'released' | 'unknown' }[]> {
    return this.db.transaction(async (trx) => {
      const contacts = await trx('campaign_contacts')
        .whereIn('state', ['dialing', 'in-progress'])
        .where('lease_expires_at', '<=', now)
        .orderBy('lease_expires_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .select('id', 'attempts');
      const out: { contactId: string; action: 'released' | 'unknown' }[] = [];
      for (const c of contacts) {
        const a = await trx('call_attempts').where({ contact_id: c.id, attempt_no: c.attempts }).forUpdate().first();
        if (!a || a.status === 'requested') {
          if (a) await trx('call_attempts').where({ id: a.id }).delete();
          await trx('campaign_contacts')
            .where({ id: c.id })
            .update({ state: c.attempts > 1 ? 'retry-scheduled' : 'pending', attempts: c.attempts - 1, next_attempt_at: now, lease_owner: null, lease_expires_at: null, updated_at: now });
          out.push({ contactId: String(c.id), action: 'released' });
          continue;
        }
        const r = await this.settle(a.id, { outcome: 'unknown', status: a.outcome ? undefined : 'unknown', now }, decide, trx);
        if (!r.settled) await trx('campaign_contacts').where({ id: c.id }).update({ lease_owner: null, lease_expires_at: null, updated_at: now });
        out.push({ contactId: String(c.id), action: 'unknown' });
      }
      return out;
    });
  }

  /**
   * Running campaigns with at least one contact and none left in pending/dialing/in-progress/retry-scheduled →
   * `completed` with `finished_at`, each with its `campaign.completed` webhook event (one transaction). @returns their ids.
   */
  async completeFinished(now: Date): Promise<string[]> {
    return this.db.transaction(async (trx) => {
      const ids = await this.completeFinishedIn(trx, now);
      for (const id of ids) await emitWebhookEvent(trx, { type: 'campaign.completed', subject: { kind: 'campaign', id }, data: { campaignId: id, finishedAt: now.toISOString() }, at: now });
      return ids;
    });
  }

  private async completeFinishedIn(trx: Knex.Transaction, now: Date): Promise<string[]> {
    const rows = await trx('campaigns')
      .where({ state: 'running' })
      .whereExists((q) => q.select(trx.raw('1')).from('campaign_contacts').whereRaw('campaign_contacts.campaign_id = campaigns.id'))
      .whereNotExists((q) =>
        q.select(trx.raw('1')).from('campaign_contacts').whereRaw('campaign_contacts.campaign_id = campaigns.id').whereIn('state', ['pending', 'dialing', 'in-progress', 'retry-scheduled']),
      )
      .update({ state: 'completed', finished_at: now, updated_at: now })
      .returning('id');
    return rows.map((r: { id: string }) => r.id);
  }

  /** Attempts placed today (since 00:00 UTC of `now`) per caller ID among `numbers`. */
  async callerIdUsage(numbers: string[], now: Date, trx: Knex | Knex.Transaction = this.db): Promise<Map<string, number>> {
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const rows = await trx('call_attempts').whereIn('from_number', numbers).where('requested_at', '>=', midnight).groupBy('from_number').select('from_number').count({ n: '*' });
    return new Map(rows.map((r: any) => [r.from_number, Number(r.n)]));
  }

  /**
   * The campaign's last `window` handed-off dials (newest first): true = a dial failure (Twilio refused calls.create:
   * `failed` with an error and no CallSid).
   */
  async recentDialResults(campaignId: string, window: number): Promise<boolean[]> {
    const rows = await this.db('call_attempts')
      .where({ campaign_id: campaignId })
      .whereNotIn('status', ['requested', 'sending'])
      .orderBy('requested_at', 'desc')
      .orderBy('id')
      .limit(window)
      .select('call_sid', 'error', 'status');
    return rows.map((r: any) => r.status === 'failed' && !r.call_sid && !!r.error);
  }

  /** Pauses a running campaign with a reason (and its `campaign.paused` webhook event, same transaction). @returns false when it was not running. */
  async pause(campaignId: string, reason: string, now: Date): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const n = await trx('campaigns').where({ id: campaignId, state: 'running' }).update({ state: 'paused', pause_reason: reason, updated_at: now });
      if (n > 0) await emitWebhookEvent(trx, { type: 'campaign.paused', subject: { kind: 'campaign', id: campaignId }, data: { campaignId, reason }, at: now });
      return n > 0;
    });
  }
}
