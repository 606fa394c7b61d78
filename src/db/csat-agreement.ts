import type { Knex } from 'knex';

/** Calls per (stated, predicted) pair of CSAT scores (1..5 each). */
export interface CsatPair {
  stated: number;
  predicted: number;
  n: number;
}

/**
 * Read-only: how the predicted CSAT (`call_csat.score`) pairs with callers' stated scores (`call_csat.stated_score`)
 * for `GET /api/analytics/csat` (the agreement itself is `csatAgreement` of src/analytics/csat-agreement.ts). One
 * grouped query over the calls that started in [from, to) (index `calls_started_at_call_sid`), optionally of one
 * agent; calls without a stated score are left out.
 */
export class CsatAgreementRepo {
  constructor(private readonly db: Knex) {}

  /** Counts per (stated, predicted) pair of the calls in range that have both scores. */
  async pairs(o: { from: Date; to: Date; agentId?: string }): Promise<CsatPair[]> {
    const q = this.db('call_csat as s')
      .join('calls as c', 'c.call_sid', 's.call_sid')
      .where('c.started_at', '>=', o.from)
      .andWhere('c.started_at', '<', o.to)
      .whereNotNull('s.stated_score')
      .select('s.stated_score as stated', 's.score as predicted', this.db.raw('count(*)::int AS n'))
      .groupBy('s.stated_score', 's.score');
    if (o.agentId !== undefined) q.andWhere('c.agent_id', o.agentId);
    const rows = (await q) as Array<{ stated: number; predicted: number; n: number }>;
    return rows.map((r) => ({ stated: Number(r.stated), predicted: Number(r.predicted), n: r.n }));
  }
}
