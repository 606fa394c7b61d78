import type { Knex } from 'knex';
import { DncRepo } from './dnc';
import { emitWebhookEvent } from './webhook-outbox';

/** What an outbound call needs from its attempt (call_attempts joined with its contact and campaign). */
export interface OutboundAttempt {
  id: string;
  agentId: string;
  campaignId: string | null;
  contactId: string | null;
  toNumber: string;
  fromNumber: string;
  callSid: string | null;
  /** The contact's variables merged with the attempt's (the attempt's win), for `fillTemplate`. */
  variables: Record<string, string>;
  /** ISO 639-1 of the contact, or null. */
  language: string | null;
  /** The contact's IANA zones (first = the one used to read times said in the call), empty when unknown. */
  timezones: string[];
  /** The campaign's voicemail message (raw template), or null. */
  campaignVoicemail: string | null;
  /** AMD result already stored (it may arrive before the media stream starts), or null. */
  answeredBy: string | null;
}

/** AnsweredBy values that mean "a machine finished its greeting" (DetectMessageEnd), per Twilio's AMD docs. */
export const MACHINE_END = ['machine_end_beep', 'machine_end_silence', 'machine_end_other'] as const;

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = String(x);
  return out;
};

/**
 * Writes of an outbound call's outcomes: the attempt's answer and AMD classification, a voicemail left, an in-call
 * opt-out (DNC entry with provenance, contact `opted-out`, `call_events` row `opt_out`) and a callback asked for
 * (contact `retry-scheduled` at that instant). Each is one statement or one transaction.
 */
export class OutboundOutcomesRepo {
  constructor(private readonly db: Knex) {}

  /** The attempt `id` (a uuid) with its contact and campaign, or null (unknown or not a uuid). */
  async attempt(id: string): Promise<OutboundAttempt | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    const r = await this.db('call_attempts as a')
      .leftJoin('campaign_contacts as c', 'c.id', 'a.contact_id')
      .leftJoin('campaigns as k', 'k.id', 'a.campaign_id')
      .where('a.id', id)
      .first('a.*', 'c.variables as contact_variables', 'c.language', 'c.timezones', 'c.name as contact_name', 'k.voicemail_message');
    return r ? this.toAttempt(r) : null;
  }

  /** The attempt of a call, by its CallSid, or null. */
  async attemptByCallSid(callSid: string): Promise<OutboundAttempt | null> {
    const r = await this.db('call_attempts').where({ call_sid: callSid }).first('id');
    return r ? this.attempt(r.id) : null;
  }

  private toAttempt(r: Record<string, any>): OutboundAttempt {
    const variables = { ...(r.contact_name ? { name: String(r.contact_name) } : {}), ...strings(r.contact_variables), ...strings(r.variables) };
    return {
      id: r.id,
      agentId: r.agent_id,
      campaignId: r.campaign_id ?? null,
      contactId: r.contact_id === null || r.contact_id === undefined ? null : String(r.contact_id),
      toNumber: r.to_number,
      fromNumber: r.from_number,
      callSid: r.call_sid ?? null,
      variables,
      language: r.language ?? null,
      timezones: r.timezones ?? [],
      campaignVoicemail: r.voicemail_message ?? null,
      answeredBy: r.answered_by ?? null,
    };
  }

  /**
   * The voice webhook answered the attempt's call: stores its CallSid and `answered_at` (the first time only), and
   * creates the `calls` row (direction `outbound-api`, campaign and attempt) — a retried webhook is a no-op.
   */
  async answered(a: OutboundAttempt, c: { callSid: string; accountSid?: string; status: string }): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('call_attempts').where({ id: a.id }).update({ call_sid: c.callSid, answered_at: trx.raw('coalesce(answered_at, now())') });
      await trx('calls')
        .insert({
          call_sid: c.callSid,
          account_sid: c.accountSid ?? null,
          agent_id: a.agentId,
          direction: 'outbound-api',
          from_number: a.fromNumber,
          to_number: a.toNumber,
          status: c.status,
          campaign_id: a.campaignId,
          attempt_id: a.id,
        })
        .onConflict('call_sid')
        .ignore();
    });
  }

  /** Stores an AMD classification (`source` twilio-amd | transcript) on the call's attempt. @returns false when no attempt has that CallSid. */
  async recordAmd(callSid: string, answeredBy: string, source: 'twilio-amd' | 'transcript'): Promise<boolean> {
    const n = await this.db('call_attempts').where({ call_sid: callSid }).update({ answered_by: answeredBy, amd_source: source, amd_at: this.db.fn.now() });
    return n > 0;
  }

  /** Whether the voicemail message played to the end (its marks came back); the contact's last outcome becomes `voicemail`; `voicemail.left` is written in the same transaction. */
  async recordVoicemail(callSid: string, played: boolean): Promise<void> {
    await this.db.transaction(async (trx) => {
      const a = await trx('call_attempts').where({ call_sid: callSid }).update({ voicemail_played: played }).returning(['contact_id', 'campaign_id']);
      if (a[0]?.contact_id) await trx('campaign_contacts').where({ id: a[0].contact_id }).update({ last_outcome: 'voicemail', updated_at: trx.fn.now() });
      await trx('call_events').insert({ call_sid: callSid, type: 'voicemail', payload: { played } });
      await emitWebhookEvent(trx, {
        type: 'voicemail.left',
        subject: { kind: 'call', id: callSid },
        data: { callSid, played, campaignId: a[0]?.campaign_id ?? null, contactId: a[0]?.contact_id == null ? null : String(a[0].contact_id) },
        dedupeKey: `voicemail.left:${callSid}`,
      });
    });
  }

  /**
   * An in-call opt-out: `number` joins the DNC list (source `opt_out`, provenance call + utterance + campaign +
   * attempt; an existing entry is kept), the call's contact (if any) loses its next attempt and becomes `opted-out`
   * (never dialed again) — at once, or, while its call is live (`dialing`/`in-progress`), when the attempt settles so
   * the call keeps its concurrency slot until it ends (src/db/dispatch.ts `settle`) — and a `call_events` row `opt_out` and the `contact.opted_out` webhook event are written. One transaction.
   */
  async optOut(o: { callSid: string; number: string; utterance: string | null; via: 'phrase' | 'dtmf' | 'tool' }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const attempt = await trx('call_attempts').where({ call_sid: o.callSid }).first('id', 'campaign_id', 'contact_id');
      await new DncRepo(trx).add({
        number: o.number,
        reason: 'opted out during a call',
        source: 'opt_out',
        provenance: { callSid: o.callSid, ...(o.utterance ? { utterance: o.utterance } : {}), ...(attempt?.campaign_id ? { campaignId: attempt.campaign_id } : {}), ...(attempt ? { attemptId: attempt.id } : {}) },
      });
      if (attempt?.contact_id) {
        // A contact whose call is live keeps its state and lease (the slot stays taken until Twilio reports the call
        // ended; settle reads this call's opt_out event and makes it `opted-out`). Any other becomes opted-out now.
        const live = ['dialing', 'in-progress'];
        await trx('campaign_contacts').where({ id: attempt.contact_id }).whereIn('state', live).update({ last_outcome: 'opted-out', next_attempt_at: null, updated_at: trx.fn.now() });
        await trx('campaign_contacts')
          .where({ id: attempt.contact_id })
          .whereNotIn('state', live)
          .update({ state: 'opted-out', last_outcome: 'opted-out', next_attempt_at: null, lease_owner: null, lease_expires_at: null, updated_at: trx.fn.now() });
      }
      await trx('call_events').insert({ call_sid: o.callSid, type: 'opt_out', payload: { number: o.number, via: o.via, utterance: o.utterance, campaignId: attempt?.campaign_id ?? null, attemptId: attempt?.id ?? null } });
      await emitWebhookEvent(trx, {
        type: 'contact.opted_out',
        subject: { kind: 'call', id: o.callSid },
        data: { callSid: o.callSid, number: o.number, via: o.via, campaignId: attempt?.campaign_id ?? null, contactId: attempt?.contact_id == null ? null : String(attempt.contact_id) },
        dedupeKey: `contact.opted_out:${o.callSid}`,
      });
    });
  }

  /**
   * A callback asked for in the call: a `callback` event `{ at, said, booked }` on the call, and on the call's contact
   * `next_attempt_at = at`, `last_outcome = 'callback'`. The contact stays in its state while the call goes on (its
   * slot stays taken); when the attempt settles, the dispatcher sees the booked event and schedules the contact
   * (`retry-scheduled` at `at`, pushed into the calling window; it uses one attempt of the shared budget).
   * @returns false when the call has no campaign contact (a single call) or the contact is final — nothing is booked.
   */
  async scheduleCallback(callSid: string, at: Date, said: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const attempt = await trx('call_attempts').where({ call_sid: callSid }).first('contact_id');
      if (!attempt?.contact_id) {
        await trx('call_events').insert({ call_sid: callSid, type: 'callback', payload: { at: at.toISOString(), said, booked: false } });
        return false;
      }
      const n = await trx('campaign_contacts')
        .where({ id: attempt.contact_id })
        .whereNotIn('state', ['opted-out', 'suppressed', 'done', 'failed'])
        .update({ next_attempt_at: at, last_outcome: 'callback', updated_at: trx.fn.now() });
      await trx('call_events').insert({ call_sid: callSid, type: 'callback', payload: { at: at.toISOString(), said, booked: n > 0 } });
      return n > 0;
    });
  }
}
