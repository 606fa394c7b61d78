import { Router } from 'express';
import { z } from 'zod';
import type { CallsRepo } from '../../db/calls';
import { callSummary, decodeCallCursor, encodeCallCursor } from '../call-shapes';
export type { CallSummary } from '../call-shapes';
import { publicAgent, type AgentsRepo } from '../../db/agents';
import { zodIssues } from '../zod-issues';
import { apiGuard } from '../middleware/api-guard';

/**
 * Query of `GET /api/calls`: `limit` 1..100 (default 20); `before` an ISO 8601 time (only calls that started
 * earlier); `cursor` the `nextCursor` of the previous page.
 */
export const listCallsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.iso.datetime({ offset: true }).optional(),
  cursor: z
    .string()
    .max(200)
    .transform((t, ctx) => decodeCallCursor(t) ?? (ctx.addIssue({ code: 'custom', message: 'cursor is not a nextCursor value' }), z.NEVER))
    .optional(),
});

const callSidParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'callSid must be 1-64 letters, digits, _ or -');


/**
 * The REST API (express 5 Router), every route behind {@link apiGuard} (rate limit, then `Authorization: Bearer <apiKey>`):
 *
 * - `GET /api/calls?limit=&before=&cursor=` → `{ calls: CallSummary[], nextCursor: string | null }`, newest first.
 *   `nextCursor` is an opaque keyset position when more calls exist (pass it as `cursor` for the next page), else null.
 *   400 `{error}` on a bad query.
 * - `GET /api/calls/:callSid` → exactly `CallsRepo.detail()` (`CallDetail`); 404 `{error}` when unknown.
 * - `GET /api/agents` → `{ agents: Agent[] }` (tool secrets removed, see `publicAgent`).
 *
 * Rate-limited per client (default 600 requests/min, 429 beyond). Responses are JSON with `Cache-Control: no-store`. Errors thrown by the repositories reach the app's error handler.
 */
export function createApiRouter(d: { calls: CallsRepo; agents: AgentsRepo; apiKey: string; requestsPerMinute?: number }): Router {
  const r = Router();
  r.use('/api', apiGuard({ apiKey: d.apiKey, requestsPerMinute: d.requestsPerMinute }));

  r.get('/api/calls', async (req, res) => {
    const q = listCallsQuery.safeParse(req.query);
    if (!q.success) {
      res.status(400).json({ error: zodIssues(q.error, 'query') });
      return;
    }
    // One extra row tells whether another page exists.
    const rows = await d.calls.list({ limit: q.data.limit + 1, before: q.data.before, after: q.data.cursor });
    const page = rows.slice(0, q.data.limit);
    res.json({ calls: page.map(callSummary), nextCursor: rows.length > q.data.limit ? encodeCallCursor(page[page.length - 1].cursor) : null });
  });

  r.get('/api/calls/:callSid', async (req, res) => {
    const sid = callSidParam.safeParse(req.params.callSid);
    if (!sid.success) {
      res.status(400).json({ error: sid.error.issues[0].message });
      return;
    }
    const detail = await d.calls.detail(sid.data);
    if (!detail) {
      res.status(404).json({ error: `call ${sid.data} not found` });
      return;
    }
    res.json(detail);
  });

  r.get('/api/agents', async (_req, res) => {
    res.json({ agents: (await d.agents.list()).map(publicAgent) });
  });

  return r;
}
