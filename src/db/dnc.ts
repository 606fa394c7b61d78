import type { Knex } from 'knex';

/** Where a DNC entry came from. */
export type DncSource = 'api' | 'import' | 'opt_out';

/** Who or what put a number on the list: the API actor, the import file, or the call and utterance of an opt-out. */
export interface DncProvenance {
  actor?: { kind: string; id: string; label: string };
  importFile?: string;
  callSid?: string;
  utterance?: string;
  campaignId?: string;
  attemptId?: string;
}

/** One entry of the do-not-call list (`createdAt` ISO 8601). */
export interface DncEntry {
  number: string;
  reason: string | null;
  source: DncSource;
  provenance: DncProvenance;
  createdAt: string;
}

const toEntry = (r: Record<string, any>): DncEntry => ({
  number: r.e164,
  reason: r.reason ?? null,
  source: r.source,
  provenance: r.provenance ?? {},
  createdAt: new Date(r.created_at).toISOString(),
});

/**
 * The organisation-wide do-not-call list (table `dnc_numbers`, E.164 primary key). Checked when contacts are
 * imported and again immediately before every dial; a failed check must stop the dial (callers let the error
 * propagate: never treat an exception as "not listed").
 */
export class DncRepo {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** True when `e164` is on the list. @throws on a database error (the caller must not dial then). */
  async isListed(e164: string): Promise<boolean> {
    return !!(await this.db('dnc_numbers').where({ e164 }).first('e164'));
  }

  /** The subset of `numbers` that is on the list. */
  async listedAmong(numbers: string[]): Promise<Set<string>> {
    if (!numbers.length) return new Set();
    const rows = await this.db('dnc_numbers').whereIn('e164', numbers).select('e164');
    return new Set(rows.map((r: { e164: string }) => r.e164));
  }

  /** Adds a number (idempotent: an existing entry keeps its original reason and provenance). @returns the entry and whether it was new. */
  async add(e: { number: string; reason?: string | null; source: DncSource; provenance: DncProvenance }): Promise<{ entry: DncEntry; created: boolean }> {
    const inserted = await this.db('dnc_numbers')
      .insert({ e164: e.number, reason: e.reason ?? null, source: e.source, provenance: JSON.stringify(e.provenance) })
      .onConflict('e164')
      .ignore()
      .returning('*');
    if (inserted.length) return { entry: toEntry(inserted[0]), created: true };
    return { entry: toEntry(await this.db('dnc_numbers').where({ e164: e.number }).first()), created: false };
  }

  /** Adds many numbers in one statement (import); returns how many were new. */
  async addMany(numbers: string[], e: { reason?: string | null; source: DncSource; provenance: DncProvenance }): Promise<number> {
    if (!numbers.length) return 0;
    const rows = [...new Set(numbers)].map((n) => ({ e164: n, reason: e.reason ?? null, source: e.source, provenance: JSON.stringify(e.provenance) }));
    const inserted = await this.db('dnc_numbers').insert(rows).onConflict('e164').ignore().returning('e164');
    return inserted.length;
  }

  /** The entry for `e164`, or null. */
  async get(e164: string): Promise<DncEntry | null> {
    const r = await this.db('dnc_numbers').where({ e164 }).first();
    return r ? toEntry(r) : null;
  }

  /** Removes a number; @returns false when it was not listed. */
  async remove(e164: string): Promise<boolean> {
    return (await this.db('dnc_numbers').where({ e164 }).delete()) > 0;
  }

  /** Entries ordered by number, after `after` (keyset), at most `limit`. */
  async list(o: { limit: number; after?: string }): Promise<DncEntry[]> {
    const q = this.db('dnc_numbers').orderBy('e164').limit(o.limit);
    if (o.after) q.where('e164', '>', o.after);
    return (await q).map(toEntry);
  }
}
