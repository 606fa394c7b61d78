import { z } from 'zod';
import 'zod-openapi';
import type { UsageBudgets } from '../../campaigns/budget';
import type { UsageRepo } from '../../db/usage';
import { USAGE_KINDS, type UsageKind } from '../../domain/usage';
import { defineRoute, type ApiRoute } from './route';
import { checkRange, rangeOf, rangeShape } from './time-range';

const kindEnum = z.enum(USAGE_KINDS as [UsageKind, ...UsageKind[]]);

/** `GET /api/usage` query. */
export const usageQuery = z
  .strictObject({
    ...rangeShape,
    groupBy: z.enum(['day', 'agent', 'campaign', 'provider']).default('day').meta({ description: "Group by the call's start day (UTC), its agent, its campaign (null: not a campaign call) or the provider." }),
  })
  .superRefine(checkRange);

/** `GET /api/usage` response. */
export const usageSummarySchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    groupBy: z.enum(['day', 'agent', 'campaign', 'provider']),
    costUsd: z.number().nonnegative().meta({ description: 'Total estimated cost (USD) of the calls in range.' }),
    groups: z.array(
      z.object({
        key: z.string().nullable(),
        costUsd: z.number().nonnegative(),
        quantities: z.partialRecord(kindEnum, z.number().nonnegative()).meta({ description: 'Per kind, in its unit: stt_audio seconds, llm_* tokens, tts_characters characters, telephony_* minutes.' }),
      }),
    ),
  })
  .meta({
    id: 'UsageSummary',
    example: {
      from: '2026-11-25T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
      groupBy: 'provider',
      costUsd: 4.2185,
      groups: [
        { key: 'openai.chat', costUsd: 0.4185, quantities: { llm_prompt: 2_100_000, llm_completion: 172_500 } },
        { key: 'twilio', costUsd: 3.8, quantities: { telephony_inbound: 400, telephony_outbound: 30 } },
      ],
    },
  });

/** `GET /api/usage/budgets` response. */
export const budgetReportSchema = z
  .object({
    month: z.string().meta({ description: 'Calendar month (UTC), `YYYY-MM`.' }),
    outboundBlocked: z.boolean().meta({ description: 'True while a provider has used its whole budget: new outbound dials are refused (inbound calls go on).' }),
    providers: z.array(
      z.object({
        provider: z.string(),
        budgetUsd: z.number().positive(),
        spentUsd: z.number().nonnegative(),
        ratio: z.number().nonnegative().meta({ description: 'spent / budget (1 = all of it).' }),
        level: z.enum(['ok', 'warning', 'exceeded']).meta({ description: '`warning` from 80 %, `exceeded` from 100 %.' }),
      }),
    ),
  })
  .meta({
    id: 'BudgetReport',
    example: { month: '2026-12', outboundBlocked: false, providers: [{ provider: 'openai.chat', budgetUsd: 200, spentUsd: 171.2, ratio: 0.856, level: 'warning' }] },
  });

/**
 * Usage and cost (issue 12):
 * - `GET /api/usage?from&to&groupBy=day|agent|campaign|provider` (viewer) → usage and estimated cost of the calls that
 *   started in the range, summed per group.
 * - `GET /api/usage/budgets` (admin) → this month's spend against each provider's budget (USAGE_BUDGETS_JSON); reading
 *   it also announces a level reached for the first time (audit log + warning log).
 * A call's own usage is in `GET /api/calls/:callSid` (`usage`).
 */
export function usageRoutes(d: { usage: UsageRepo; budgets: Pick<UsageBudgets, 'report'>; now?: () => Date }): ApiRoute[] {
  const now = d.now ?? (() => new Date());
  const routes = [
    defineRoute({
      method: 'get',
      path: '/api/usage',
      role: 'viewer',
      tag: 'usage',
      summary: 'Usage and estimated cost, summed per day, agent, campaign or provider',
      query: usageQuery,
      responses: { 200: { description: 'Usage of the calls that started in the range.', schema: usageSummarySchema } },
      examples: { response: usageSummarySchema.meta()!.example },
      handler: async ({ query }) => {
        const { from, to } = rangeOf(query, now());
        const s = await d.usage.summary({ from, to, groupBy: query.groupBy });
        return { from: from.toISOString(), to: to.toISOString(), groupBy: query.groupBy, costUsd: s.costUsd, groups: s.groups };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/usage/budgets',
      role: 'admin',
      tag: 'usage',
      summary: "This month's spend against each provider's monthly budget",
      responses: { 200: { description: 'Budgets of the current month (UTC).', schema: budgetReportSchema } },
      examples: { response: budgetReportSchema.meta()!.example },
      handler: async () => ({ ...(await d.budgets.report({ fresh: true })) }),
    }),
  ];
  return routes as ApiRoute[];
}
