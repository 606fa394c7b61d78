import { z } from 'zod';
import 'zod-openapi';
import { instant, instantMs } from './call-query';
import { ApiError } from './route';

/** Longest range the usage and analytics endpoints sum over (days). */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

/** `from` / `to` of the usage and analytics queries (strict: other parameters are 400s unless `extra` names them). */
export const rangeShape = {
  from: instant.optional().meta({ description: 'Calls that started at or after this instant (default: `to` − 7 days).' }),
  to: instant.optional().meta({ description: 'Calls that started before this instant (exclusive; default: now).' }),
};

/** Cross-field rule of {@link rangeShape}: non-empty and at most {@link MAX_RANGE_DAYS} days. */
export function checkRange(v: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (v.from === undefined || v.to === undefined) return;
  const from = instantMs(v.from);
  const to = instantMs(v.to);
  if (from >= to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be later than from' });
  else if (to - from > MAX_RANGE_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: `the range must not exceed ${MAX_RANGE_DAYS} days` });
}

/**
 * The validated range as Dates: `to` defaults to `now`, `from` to 7 days before `to`.
 * @throws ApiError 400 when a default makes the range empty or too long (e.g. only a `from` in the future).
 */
export function rangeOf(q: { from?: string; to?: string }, now: Date): { from: Date; to: Date } {
  const to = q.to === undefined ? now : new Date(instantMs(q.to));
  const from = q.from === undefined ? new Date(to.getTime() - 7 * DAY_MS) : new Date(instantMs(q.from));
  if (from >= to) throw new ApiError(400, 'query.to: to must be later than from');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new ApiError(400, `query.to: the range must not exceed ${MAX_RANGE_DAYS} days`);
  return { from, to };
}
