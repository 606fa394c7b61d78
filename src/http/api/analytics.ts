import { z } from 'zod';
import 'zod-openapi';
import { LATENCY_STAGES, type OverviewRepo } from '../../db/overview';
import { defineRoute, type ApiRoute } from './route';
import { checkRange, rangeOf, rangeShape } from './time-range';

/** `GET /api/analytics/overview` query. */
export const overviewQuery = z.strictObject({ ...rangeShape }).superRefine(checkRange);

const count = z.number().int().nonnegative();
const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });

/** `GET /api/analytics/overview` response (see OverviewRepo for the definitions). */
export const overviewSchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    totals: z.object({
      calls: count,
      answered: count.meta({ description: "Calls whose media stream started (the agent answered)." }),
      abandoned: count.meta({ description: 'Calls that ended before the agent answered (hang-up while ringing, busy, no-answer, failed, canceled).' }),
      transfers: count,
      contained: count.meta({ description: 'Answered calls that ended without a transfer to a person.' }),
      containmentRate: z.number().min(0).max(1).nullable(),
      costUsd: z.number().nonnegative(),
    }),
    days: z.array(z.object({ day: z.string(), calls: count, answered: count, abandoned: count, transfers: count, contained: count, costUsd: z.number().nonnegative() })),
    csat: z.object({
      average: z.number().nullable(),
      count,
      distribution: z.object({ '1': count, '2': count, '3': count, '4': count, '5': count }),
    }),
    latency: z.array(
      z.object({
        day: z.string(),
        turns: count,
        stages: z.object(Object.fromEntries(LATENCY_STAGES.map((s) => [s, percentiles])) as Record<(typeof LATENCY_STAGES)[number], typeof percentiles>),
      }),
    ),
    languages: z.array(z.object({ language: z.string().nullable(), calls: count })),
    topIntents: z.array(z.object({ intent: z.string(), calls: count })),
    liveNow: count.meta({ description: 'Calls in progress now (no end, started in the last 4 hours).' }),
  })
  .meta({
    id: 'Overview',
    example: {
      from: '2026-11-25T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
      totals: { calls: 120, answered: 112, abandoned: 8, transfers: 14, contained: 98, containmentRate: 0.875, costUsd: 6.42 },
      days: [{ day: '2026-11-25', calls: 120, answered: 112, abandoned: 8, transfers: 14, contained: 98, costUsd: 6.42 }],
      csat: { average: 4.1, count: 90, distribution: { '1': 3, '2': 5, '3': 10, '4': 30, '5': 42 } },
      latency: [
        {
          day: '2026-11-25',
          turns: 560,
          stages: {
            endpointingMs: { p50: 620, p95: 900 },
            sttMs: { p50: 180, p95: 420 },
            llmFirstTokenMs: { p50: 350, p95: 800 },
            ttsFirstByteMs: { p50: 120, p95: 260 },
            replyLatencyMs: { p50: 1250, p95: 2100 },
          },
        },
      ],
      languages: [{ language: 'en', calls: 100 }, { language: 'es', calls: 20 }],
      topIntents: [{ intent: 'hours', calls: 40 }, { intent: 'refund', calls: 25 }],
      liveNow: 3,
    },
  });

/** `GET /api/analytics/overview?from&to` (viewer): the dashboard's overview of the calls that started in the range. */
export function analyticsRoutes(d: { overview: OverviewRepo; now?: () => Date }): ApiRoute[] {
  const now = d.now ?? (() => new Date());
  const routes = [
    defineRoute({
      method: 'get',
      path: '/api/analytics/overview',
      role: 'viewer',
      tag: 'analytics',
      summary: 'Overview: calls per day, cost, answered/abandoned, containment, transfers, CSAT, latency, languages, intents, live calls',
      query: overviewQuery,
      responses: { 200: { description: 'The overview of the calls that started in the range.', schema: overviewSchema } },
      examples: { response: overviewSchema.meta()!.example },
      handler: async ({ query }) => {
        const at = now();
        const { from, to } = rangeOf(query, at);
        return { ...(await d.overview.overview({ from, to, now: at })) };
      },
    }),
  ];
  return routes as ApiRoute[];
}
