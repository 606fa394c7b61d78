import type { Knex } from 'knex';
import type { CampaignContact, ContactState } from '../domain/campaign';

/** A contact ready to store (phone E.164, zones IANA), as the importer produces it. */
export interface ContactRow {
  phone: string;
  name: string | null;
  timezones: string[];
  language: string | null;
  variables: Record<string, string>;
  /** `suppressed` for a DNC-listed number, else `pending`. */
  state: 'pending' | 'suppressed';
  sourceLine: number | null;
}

/** What an existing contact holds that an import merges into. */
export interface ExistingContact {
  phone: string;
  name: string | null;
  timezones: string[];
  language: string | null;
  variables: Record<string, string>;
}

/** A contact of the report: the contact plus its last attempt's `answered_by`. */
export type ReportContact = CampaignContact & { lastAnsweredBy: string | null };

const toContact = (r: Record<string, any>): CampaignContact => ({
  id: String(r.id),
  campaignId: r.campaign_id,
  phone: r.phone,
  name: r.name ?? null,
  timezones: r.timezones,
  language: r.language ?? null,
  variables: r.variables ?? {},
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
  lastOutcome: r.last_outcome ?? null,
  lastCallSid: r.last_call_sid ?? null,
});

/** States a DNC listing moves to `suppressed` (never dialed yet, or waiting for a retry). */
export const SUPPRESSIBLE_STATES: readonly ContactState[] = ['pending', 'retry-scheduled'];

/**
 * Contacts of campaigns (table `campaign_contacts`): import upserts, lists, the report stream and DNC suppression.
 * The dispatcher's claims and state transitions live elsewhere (src/campaigns).
 */
export class CampaignContactsRepo {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** The stored contacts among `phones` of a campaign (for merging duplicates). */
  async existing(campaignId: string, phones: string[]): Promise<Map<string, ExistingContact>> {
    if (!phones.length) return new Map();
    const rows = await this.db('campaign_contacts').where({ campaign_id: campaignId }).whereIn('phone', phones).select('phone', 'name', 'timezones', 'language', 'variables');
    return new Map(rows.map((r: any) => [r.phone, { phone: r.phone, name: r.name, timezones: r.timezones, language: r.language, variables: r.variables ?? {} }]));
  }

  /**
   * Inserts or merges contacts (one statement; `rows` hold distinct phones, already merged with {@link existing}).
   * An existing contact keeps its state, attempts and lease, except that a `suppressed` row suppresses a contact
   * still in a {@link SUPPRESSIBLE_STATES} state.
   */
  async upsert(campaignId: string, rows: ContactRow[]): Promise<void> {
    if (!rows.length) return;
    await this.db('campaign_contacts')
      .insert(
        rows.map((r) => ({
          campaign_id: campaignId,
          phone: r.phone,
          name: r.name,
          timezones: r.timezones,
          language: r.language,
          variables: JSON.stringify(r.variables),
          state: r.state,
          source_line: r.sourceLine,
        })),
      )
      .onConflict(['campaign_id', 'phone'])
      .merge({
        name: this.db.raw('excluded.name'),
        timezones: this.db.raw('excluded.timezones'),
        language: this.db.raw('excluded.language'),
        variables: this.db.raw('excluded.variables'),
        state: this.db.raw(`CASE WHEN excluded.state = 'suppressed' AND campaign_contacts.state IN ('pending', 'retry-scheduled') THEN 'suppressed' ELSE campaign_contacts.state END`),
        updated_at: this.db.fn.now(),
      } as any);
  }

  /** Contacts by id (keyset: after `afterId`), optionally in one state. */
  async list(campaignId: string, o: { state?: ContactState; afterId?: string; limit: number }): Promise<CampaignContact[]> {
    const q = this.db('campaign_contacts').where({ campaign_id: campaignId }).orderBy('id').limit(o.limit);
    if (o.state) q.where({ state: o.state });
    if (o.afterId) q.where('id', '>', o.afterId);
    return (await q).map(toContact);
  }

  /** Number of contacts of a campaign (in `states` when given). */
  async count(campaignId: string, states?: readonly ContactState[]): Promise<number> {
    const q = this.db('campaign_contacts').where({ campaign_id: campaignId });
    if (states) q.whereIn('state', states);
    const [r] = await q.count({ n: '*' });
    return Number(r.n);
  }

  /** Every contact of a campaign by id, read in keyset batches of `batchSize` (memory holds one batch). */
  async *stream(campaignId: string, o: { batchSize: number }): AsyncGenerator<ReportContact> {
    let after = '0';
    for (;;) {
      const rows = await this.db('campaign_contacts as c')
        .where('c.campaign_id', campaignId)
        .andWhere('c.id', '>', after)
        .orderBy('c.id')
        .limit(o.batchSize)
        .select('c.*', this.db.raw('(SELECT a.answered_by FROM call_attempts a WHERE a.contact_id = c.id ORDER BY a.attempt_no DESC LIMIT 1) AS last_answered_by'));
      for (const r of rows) yield { ...toContact(r), lastAnsweredBy: r.last_answered_by ?? null };
      if (rows.length < o.batchSize) return;
      after = String(rows[rows.length - 1].id);
    }
  }

  /** Moves the contacts of `phones` in every campaign from a {@link SUPPRESSIBLE_STATES} state to `suppressed`; @returns how many. */
  async suppress(phones: string[]): Promise<number> {
    if (!phones.length) return 0;
    return this.db('campaign_contacts')
      .whereIn('phone', phones)
      .whereIn('state', SUPPRESSIBLE_STATES as ContactState[])
      .update({ state: 'suppressed', last_outcome: 'dnc', next_attempt_at: null, updated_at: this.db.fn.now() });
  }
}
