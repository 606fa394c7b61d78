import { z } from 'zod';
import 'zod-openapi';
import { csatMethod } from '../../analytics/csat';
import { csatAgreement } from '../../analytics/csat-agreement';
import { currentCsatWeights } from '../../analytics/csat-weights';
import { agentSchema } from '../../db/agents';
import type { CsatAgreementRepo } from '../../db/csat-agreement';
import { defineRoute, type ApiRoute } from './route';
import { checkRange, rangeOf, rangeShape } from './time-range';

/** `GET /api/analytics/csat` query: the time range, optionally one agent. */
export const csatAgreementQuery = z
  .strictObject({ ...rangeShape, agentId: agentSchema.shape.id.optional().meta({ description: 'Only calls answered by this agent.' }) })
  .superRefine(checkRange);

const rate = z.number().min(0).max(1).nullable();
const score = z.number().min(1).max(5).nullable();
const count = z.number().int().nonnegative();

/** `GET /api/analytics/csat` response (definitions in src/analytics/csat-agreement.ts). */
export const csatAgreementSchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    agentId: z.string().nullable(),
    n: count.meta({ description: 'Calls in range with both a stated (survey) and a predicted score.' }),
    matrix: z
      .array(z.array(count).length(5))
      .length(5)
      .meta({ description: 'Confusion matrix: `matrix[s-1][p-1]` calls the caller rated `s` and the heuristic predicted `p` (rows stated 1..5, columns predicted 1..5).' }),
    meanAbsoluteError: z.number().min(0).max(4).nullable().meta({ description: 'Mean |stated − predicted|; null when n = 0.' }),
    exactRate: rate.meta({ description: 'Share of calls where stated = predicted.' }),
    withinOneRate: rate.meta({ description: 'Share of calls where |stated − predicted| ≤ 1.' }),
    meanStated: score,
    meanPredicted: score,
    method: z.string().meta({ description: 'The method new calls are scored with now (`heuristic-v2+default`, or `heuristic-v2+fit:<date>.<hash>` after `npm run csat:refit`).' }),
  })
  .meta({
    id: 'CsatAgreement',
    example: {
      from: '2026-11-25T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
      agentId: null,
      n: 6,
      matrix: [
        [1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 2],
      ],
      meanAbsoluteError: 0.3333,
      exactRate: 0.6667,
      withinOneRate: 1,
      meanStated: 3.5,
      meanPredicted: 3.6667,
      method: 'heuristic-v2+default',
    },
  });

/**
 * `GET /api/analytics/csat?from&to&agentId` (viewer): how the predicted CSAT agrees with callers' stated scores
 * (end-of-call survey) for the calls that started in the range — the data the weights are refitted on
 * (`npm run csat:refit`). `method`: default the loaded weights' (`currentCsatWeights`).
 */
export function csatAnalyticsRoutes(d: { csat: CsatAgreementRepo; now?: () => Date; method?: () => string }): ApiRoute[] {
  const now = d.now ?? (() => new Date());
  const method = d.method ?? (() => csatMethod(currentCsatWeights()));
  const routes = [
    defineRoute({
      method: 'get',
      path: '/api/analytics/csat',
      role: 'viewer',
      tag: 'analytics',
      summary: 'CSAT agreement: stated (survey) vs predicted scores — confusion matrix, mean absolute error, agreement rates',
      query: csatAgreementQuery,
      responses: { 200: { description: 'The agreement of the calls that started in the range and have both scores.', schema: csatAgreementSchema } },
      examples: { response: csatAgreementSchema.meta()!.example },
      handler: async ({ query }) => {
        const { from, to } = rangeOf(query, now());
        const a = csatAgreement(await d.csat.pairs({ from, to, agentId: query.agentId }));
        return { from: from.toISOString(), to: to.toISOString(), agentId: query.agentId ?? null, ...a, method: method() };
      },
    }),
  ];
  return routes as ApiRoute[];
}
