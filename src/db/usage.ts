import type { Knex } from 'knex';
import { DEFAULT_PRICES } from '../config';
import { costUsd, KIND_UNITS, type BudgetLevel, type PriceTable, type UsageKind, type UsageRecord } from '../domain/usage';

/** One stored usage row as the API shows it (`costUsd` estimated when written, from the price table then). */
export interface UsageLine {
  provider: string;
  kind: UsageKind;
  quantity: number;
  unit: string;
  costUsd: number;
}

/** What `GET /api/usage` groups by: the call's start day (UTC), its agent, its campaign (null: none) or the provider. */
export type UsageGroupBy = 'day' | 'agent' | 'campaign' | 'provider';

/** One group of {@link UsageRepo.summary}: its key, cost, and quantity per kind (in the kind's unit). */
export interface UsageGroup {
  key: string | null;
  costUsd: number;
  quantities: Partial<Record<UsageKind, number>>;
}

/** Rounds USD to the micro-dollar stored (numeric(14,6)). */
const usd = (n: number) => Math.round(n * 1e6) / 1e6;

const GROUP_KEY: Record<UsageGroupBy, string> = {
  day: `to_char(c.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  agent: 'c.agent_id',
  campaign: 'c.campaign_id',
  provider: 'u.provider',
};

/**
 * Repository of `call_usage` (what each provider served each call, with its estimated cost) and of the budget
 * alerts already announced (`usage_budget_alerts`). `prices` (USD per the kind's price block, see
 * domain/usage.ts) prices rows as they are written.
 */
export class UsageRepo {
  constructor(
    private readonly db: Knex,
    readonly prices: PriceTable = DEFAULT_PRICES,
  ) {}

  /**
   * Stores a call's usage, one row per (provider, kind) with its cost. Idempotent: a row written again for the same
   * call, provider and kind replaces the first (a retried write or a repeated status callback counts once).
   */
  async record(callSid: string, records: readonly UsageRecord[], trx: Knex | Knex.Transaction = this.db): Promise<void> {
    const rows = records
      .filter((r) => r.quantity > 0)
      .map((r) => ({ call_sid: callSid, provider: r.provider.slice(0, 64), kind: r.kind, quantity: r.quantity, unit: KIND_UNITS[r.kind].unit, cost_usd: usd(costUsd(r, this.prices)) }));
    if (!rows.length) return;
    await trx('call_usage')
      .insert(rows)
      .onConflict(['call_sid', 'provider', 'kind'])
      .merge(['quantity', 'unit', 'cost_usd', 'recorded_at']);
  }

  /** A call's usage rows (provider, then kind order) and their total cost. */
  async forCall(callSid: string): Promise<{ lines: UsageLine[]; costUsd: number }> {
    const rows = await this.db('call_usage').where({ call_sid: callSid }).orderBy(['provider', 'kind']).select('provider', 'kind', 'quantity', 'unit', 'cost_usd');
    const lines = rows.map((r) => ({ provider: r.provider, kind: r.kind, quantity: Number(r.quantity), unit: r.unit, costUsd: Number(r.cost_usd) }));
    return { lines, costUsd: usd(lines.reduce((n, l) => n + l.costUsd, 0)) };
  }

  /**
   * Usage of the calls that started in [`from`, `to`) summed per group (see {@link UsageGroupBy}), groups ordered by
   * key (nulls last), with the total cost.
   */
  async summary(o: { from: Date; to: Date; groupBy: UsageGroupBy }): Promise<{ groups: UsageGroup[]; costUsd: number }> {
    const key = GROUP_KEY[o.groupBy];
    const q = this.db('call_usage as u')
      .join('calls as c', 'c.call_sid', 'u.call_sid')
      .where('c.started_at', '>=', o.from)
      .andWhere('c.started_at', '<', o.to)
      .select(this.db.raw(`${key} AS key`), 'u.kind', this.db.raw('sum(u.quantity)::float8 AS quantity'), this.db.raw('sum(u.cost_usd)::float8 AS cost'))
      .groupByRaw(`${key}, u.kind`)
      .orderByRaw(`${key} NULLS LAST, u.kind`);
    const groups = new Map<string | null, UsageGroup>();
    for (const r of await q) {
      const k = r.key ?? null;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { key: k, costUsd: 0, quantities: {} }));
      g.quantities[r.kind as UsageKind] = r.quantity;
      g.costUsd += r.cost;
    }
    const out = [...groups.values()].map((g) => ({ ...g, costUsd: usd(g.costUsd) }));
    return { groups: out, costUsd: usd(out.reduce((n, g) => n + g.costUsd, 0)) };
  }

  /** Cost per provider of the usage recorded in [`from`, `to`) (a budget month), USD. */
  async spendByProvider(from: Date, to: Date): Promise<Map<string, number>> {
    const rows = await this.db('call_usage').where('recorded_at', '>=', from).andWhere('recorded_at', '<', to).groupBy('provider').select('provider', this.db.raw('sum(cost_usd)::float8 AS cost'));
    return new Map(rows.map((r) => [r.provider as string, usd(Number(r.cost))]));
  }

  /**
   * Remembers that `provider` reached `level` in the month starting `month` (UTC date `YYYY-MM-01`).
   * @returns true the first time (the caller announces it), false when it was already announced (by any server).
   */
  async markAlert(a: { provider: string; month: string; level: Exclude<BudgetLevel, 'ok'>; spentUsd: number; budgetUsd: number }, trx: Knex | Knex.Transaction = this.db): Promise<boolean> {
    const rows = await trx('usage_budget_alerts')
      .insert({ provider: a.provider, month: a.month, level: a.level, spent_usd: a.spentUsd, budget_usd: a.budgetUsd })
      .onConflict(['provider', 'month', 'level'])
      .ignore()
      .returning('provider');
    return rows.length === 1;
  }
}
