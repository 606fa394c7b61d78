import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { emitWebhookEvent } from './webhook-outbox';
import { CONTACT_STATES, type Campaign, type CampaignCreate, type CampaignState, type ContactState } from '../domain/campaign';

const toCampaign = (r: Record<string, any>): Campaign => ({
  id: r.id,
  name: r.name,
  agentId: r.agent_id,
  state: r.state,
  callerIds: r.caller_ids,
  defaultRegion: r.default_region ?? null,
  window: r.window,
  maxConcurrent: r.max_concurrent,
  cps: Number(r.cps),
  retry: r.retry,
  voicemailMessage: r.voicemail_message ?? null,
  pauseReason: r.pause_reason ?? null,
  startedAt: r.started_at ? new Date(r.started_at).toISOString() : null,
  finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Fields of a campaign a PATCH may set (absent = kept; `null` clears the nullable ones). */
export type CampaignChanges = Partial<Omit<CampaignCreate, 'defaultRegion' | 'voicemailMessage'>> & { defaultRegion?: string | null; voicemailMessage?: string | null };

const COLUMNS: Record<keyof CampaignChanges, string> = {
  name: 'name',
  agentId: 'agent_id',
  callerIds: 'caller_ids',
  defaultRegion: 'default_region',
  window: 'window',
  maxConcurrent: 'max_concurrent',
  cps: 'cps',
  retry: 'retry',
  voicemailMessage: 'voicemail_message',
};
const JSON_FIELDS = new Set(['callerIds', 'window', 'retry']);

/**
 * Progress of a campaign (`GET /api/campaigns/:id`). `funnel` counts contacts (not attempts): `dialed` ≥ 1 attempt;
 * `answered` an attempt with `answered_at`; `human` an attempt answered by a human (or AMD `unknown`/none with a
 * conversation); `conversation` a call with ≥ 1 caller turn that was not answered by a machine (a voicemail
 * greeting is stored as a caller turn but is no conversation); `voicemail` an attempt answered by a machine's end
 * (`machine_end_*`) or with `voicemail_played` set; `transferred` a call with a stored transfer (`calls.transfer`);
 * `completed` contact state `done`; `optedOut` state `opted-out`.
 */
export interface CampaignProgress {
  counts: Record<ContactState, number>;
  funnel: { contacts: number; dialed: number; answered: number; human: number; conversation: number; voicemail: number; transferred: number; completed: number; optedOut: number };
  /** Attempts used by all contacts (the shared budget's consumption). */
  attemptsUsed: number;
  /** Mean duration of ended attempts (requested → ended, s), or null when none has ended. */
  meanAttemptSeconds: number | null;
}

/** Repository of campaigns (table `campaigns`). The dispatcher sets `completed` and `pause_reason`; the API the rest. */
export class CampaignsRepo {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** Runs `fn` in one transaction with a repository bound to it. */
  transaction<T>(fn: (repo: CampaignsRepo, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return (this.db as Knex).transaction((trx) => fn(new CampaignsRepo(trx), trx));
  }

  /** Inserts a draft campaign with a new uuid. @throws on an unknown agent (foreign key). */
  async create(c: CampaignCreate): Promise<Campaign> {
    const [r] = await this.db('campaigns')
      .insert({
        id: randomUUID(),
        name: c.name,
        agent_id: c.agentId,
        state: 'draft',
        caller_ids: JSON.stringify(c.callerIds),
        default_region: c.defaultRegion ?? null,
        window: JSON.stringify(c.window),
        max_concurrent: c.maxConcurrent,
        cps: c.cps,
        retry: JSON.stringify(c.retry),
        voicemail_message: c.voicemailMessage ?? null,
      })
      .returning('*');
    return toCampaign(r);
  }

  /** The campaign, or null; `lock` takes its row `FOR UPDATE` (inside {@link transaction}). */
  async get(id: string, o: { lock?: boolean } = {}): Promise<Campaign | null> {
    const q = this.db('campaigns').where({ id });
    if (o.lock) q.forUpdate();
    const r = await q.first();
    return r ? toCampaign(r) : null;
  }

  /** Campaigns, newest first, optionally in one state. */
  async list(o: { state?: CampaignState } = {}): Promise<Campaign[]> {
    const q = this.db('campaigns').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    if (o.state) q.where({ state: o.state });
    return (await q).map(toCampaign);
  }

  /** Applies `changes` (absent fields kept); null when the id is unknown. */
  async update(id: string, changes: CampaignChanges): Promise<Campaign | null> {
    const row: Record<string, unknown> = { updated_at: this.db.fn.now() };
    for (const [k, v] of Object.entries(changes) as Array<[keyof CampaignChanges, unknown]>) {
      if (v !== undefined) row[COLUMNS[k]] = JSON_FIELDS.has(k) ? JSON.stringify(v) : v;
    }
    const [r] = await this.db('campaigns').where({ id }).update(row).returning('*');
    return r ? toCampaign(r) : null;
  }

  /**
   * Sets the state (`started_at` on the first start, `finished_at` on cancel; clears `pause_reason` on resume and
   * start). The caller checks the transition under {@link get}`({ lock: true })`, in {@link transaction}: the
   * `campaign.started` / `campaign.paused` / `campaign.completed` webhook event is written with the same connection.
   */
  async setState(id: string, state: CampaignState): Promise<Campaign> {
    const row: Record<string, unknown> = { state, updated_at: this.db.fn.now() };
    if (state === 'running') {
      row.started_at = this.db.raw('coalesce(started_at, now())');
      row.pause_reason = null;
    }
    if (state === 'cancelled' || state === 'completed') row.finished_at = this.db.fn.now();
    const [before] = await this.db('campaigns').where({ id }).select('state');
    const [r] = await this.db('campaigns').where({ id }).update(row).returning('*');
    const subject = { kind: 'campaign' as const, id };
    if (state === 'running' && before?.state !== 'running') await emitWebhookEvent(this.db, { type: 'campaign.started', subject, data: { campaignId: id, name: r.name, resumed: before?.state === 'paused' } });
    if (state === 'paused' && before?.state !== 'paused') await emitWebhookEvent(this.db, { type: 'campaign.paused', subject, data: { campaignId: id, reason: r.pause_reason ?? null } });
    if (state === 'completed' && before?.state !== 'completed') await emitWebhookEvent(this.db, { type: 'campaign.completed', subject, data: { campaignId: id, finishedAt: new Date(r.finished_at).toISOString() } });
    return toCampaign(r);
  }

  /** Counts per contact state, the funnel and attempts used (see {@link CampaignProgress}). */
  async progress(id: string): Promise<CampaignProgress> {
    const counts = Object.fromEntries(CONTACT_STATES.map((s) => [s, 0])) as Record<ContactState, number>;
    const byState = await this.db('campaign_contacts').where({ campaign_id: id }).groupBy('state').select('state').count({ n: '*' }).sum({ attempts: 'attempts' });
    let contacts = 0;
    let attemptsUsed = 0;
    for (const r of byState as Array<{ state: ContactState; n: string; attempts: string | null }>) {
      counts[r.state] = Number(r.n);
      contacts += Number(r.n);
      attemptsUsed += Number(r.attempts ?? 0);
    }
    const { rows } = await this.db.raw(
      `WITH a AS (
         SELECT ca.contact_id, ca.answered_at, ca.answered_by, ca.voicemail_played, ca.requested_at, ca.ended_at,
                c.transfer IS NOT NULL AS transferred,
                EXISTS (SELECT 1 FROM call_turns t WHERE t.call_sid = c.call_sid AND t.role = 'caller') AS conversation
           FROM call_attempts ca
           LEFT JOIN calls c ON c.attempt_id = ca.id
          WHERE ca.campaign_id = ?)
       SELECT count(DISTINCT contact_id) AS dialed,
              count(DISTINCT contact_id) FILTER (WHERE answered_at IS NOT NULL) AS answered,
              count(DISTINCT contact_id) FILTER (WHERE answered_by = 'human' OR ((answered_by IS NULL OR answered_by = 'unknown') AND conversation)) AS human,
              count(DISTINCT contact_id) FILTER (WHERE conversation AND (answered_by IS NULL OR answered_by IN ('human', 'unknown')) AND voicemail_played IS NULL) AS conversation,
              count(DISTINCT contact_id) FILTER (WHERE answered_by LIKE 'machine_end_%' OR voicemail_played IS NOT NULL) AS voicemail,
              count(DISTINCT contact_id) FILTER (WHERE transferred) AS transferred,
              avg(extract(epoch FROM ended_at - requested_at)) FILTER (WHERE ended_at IS NOT NULL) AS mean_seconds
         FROM a`,
      [id],
    );
    const f = rows[0];
    return {
      counts,
      funnel: {
        contacts,
        dialed: Number(f.dialed),
        answered: Number(f.answered),
        human: Number(f.human),
        conversation: Number(f.conversation),
        voicemail: Number(f.voicemail),
        transferred: Number(f.transferred),
        completed: counts.done,
        optedOut: counts['opted-out'],
      },
      attemptsUsed,
      meanAttemptSeconds: f.mean_seconds == null ? null : Number(f.mean_seconds),
    };
  }
}
