import type { Logger } from 'pino';
import { AuditRepo, type AuditActor } from '../db/audit';
import type { UsageRepo } from '../db/usage';
import { budgetLevel, type BudgetLevel } from '../domain/usage';

/** One provider's budget this month (USD; `month` `YYYY-MM`, UTC). */
export interface BudgetStatus {
  provider: string;
  budgetUsd: number;
  spentUsd: number;
  /** spent / budget, 0..∞ (1 = the whole budget). */
  ratio: number;
  level: BudgetLevel;
}

/** Every budgeted provider this month, and whether new outbound dials are stopped (some provider at 100 %). */
export interface BudgetReport {
  month: string;
  providers: BudgetStatus[];
  outboundBlocked: boolean;
}

/** The actor of the audit entries the budget monitor writes (no person made them). */
export const BUDGET_ACTOR: AuditActor = { kind: 'bootstrap', id: 'usage-budgets', label: 'usage budget monitor' };

/** Options of {@link UsageBudgets}. */
export interface UsageBudgetsOptions {
  usage: UsageRepo;
  audit: AuditRepo;
  /** USAGE_BUDGETS_JSON: provider id → USD per calendar month (UTC). */
  budgets: Readonly<Record<string, number>>;
  logger?: Logger;
  now?: () => Date;
  /** How long a computed report is reused (ms; default 10 000): a dial or a page load does not sum the month each time. */
  cacheMs?: number;
}

/** First instant of `d`'s UTC month and of the next. */
function monthOf(d: Date): { start: Date; end: Date; label: string } {
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return { start, end, label: start.toISOString().slice(0, 7) };
}

/**
 * Monthly budgets per provider (issue 12): the month's spend is the estimated cost of the usage recorded since the
 * 1st (UTC) in `call_usage`. A provider at 80 % is `warning`, at 100 % `exceeded`; the first time a level is seen in
 * a month (across every server: `usage_budget_alerts`) it is announced once — an audit-log entry
 * `usage_budget.warning` / `usage_budget.exceeded` and a warning log. While any provider is `exceeded`,
 * {@link blockedBy} gives the reason new outbound dials are refused (the dialer checks it); inbound calls are never
 * affected. Raising the budget (USAGE_BUDGETS_JSON) lifts the stop.
 */
export class UsageBudgets {
  private cached: { at: number; report: BudgetReport } | null = null;
  private readonly now: () => Date;

  constructor(private readonly o: UsageBudgetsOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** This month's report (cached up to `cacheMs`; `fresh` recomputes), announcing levels reached for the first time. */
  async report(o: { fresh?: boolean } = {}): Promise<BudgetReport> {
    const at = this.now().getTime();
    if (!o.fresh && this.cached && at - this.cached.at < (this.o.cacheMs ?? 10_000)) return this.cached.report;
    const month = monthOf(new Date(at));
    const spend = Object.keys(this.o.budgets).length ? await this.o.usage.spendByProvider(month.start, month.end) : new Map<string, number>();
    const providers = Object.entries(this.o.budgets)
      .map(([provider, budgetUsd]) => {
        const spentUsd = spend.get(provider) ?? 0;
        return { provider, budgetUsd, spentUsd, ratio: spentUsd / budgetUsd, level: budgetLevel(spentUsd, budgetUsd) };
      })
      .sort((a, b) => a.provider.localeCompare(b.provider));
    for (const p of providers) if (p.level !== 'ok') await this.announce(p, month.start.toISOString().slice(0, 10));
    const report = { month: month.label, providers, outboundBlocked: providers.some((p) => p.level === 'exceeded') };
    this.cached = { at, report };
    return report;
  }

  /** Why new outbound dials must not be placed now (a provider's monthly budget is used up), or null. */
  async blockedBy(): Promise<string | null> {
    const r = await this.report();
    const over = r.providers.filter((p) => p.level === 'exceeded');
    if (!over.length) return null;
    return `monthly budget used up: ${over.map((p) => `${p.provider} $${p.spentUsd.toFixed(2)} of $${p.budgetUsd.toFixed(2)}`).join(', ')} (${r.month})`;
  }

  /** Announces `p`'s level once per month and provider (both levels: `exceeded` implies the warning was due too). */
  private async announce(p: BudgetStatus, month: string): Promise<void> {
    const levels: Array<Exclude<BudgetLevel, 'ok'>> = p.level === 'exceeded' ? ['warning', 'exceeded'] : ['warning'];
    for (const level of levels) {
      if (!(await this.o.usage.markAlert({ provider: p.provider, month, level, spentUsd: p.spentUsd, budgetUsd: p.budgetUsd }))) continue;
      const entry = { provider: p.provider, month: month.slice(0, 7), spentUsd: p.spentUsd, budgetUsd: p.budgetUsd, percent: Math.round(p.ratio * 100) };
      await this.o.audit.record({ actor: BUDGET_ACTOR, action: `usage_budget.${level}`, entityType: 'usage_budget', entityId: p.provider, after: entry });
      this.o.logger?.warn(entry, level === 'warning' ? 'usage budget: 80 % of the monthly budget reached' : 'usage budget exhausted: new outbound dials stopped');
    }
  }
}
