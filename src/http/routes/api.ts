import { Router } from 'express';
import rateLimit from 'express-rate-limit';
import { z } from 'zod';
import { callSummary, type CallsRepo } from '../../db/calls';
export type { CallSummary } from '../../db/calls';
import type { AgentsRepo } from '../../db/agents';
import { apiAuth } from '../middleware/api-auth';

/** Query of `GET /api/calls`: `limit` 1..100 (default 20); `before` an ISO 8601 timestamp cursor on startedAt. */
export const listCallsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.iso.datetime({ offset: true }).optional(),
});

const callSidParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'callSid must be 1-64 letters, digits, _ or -');


/**
 * The REST API (express 5 Router), every route behind {@link apiAuth} (`Authorization: Bearer <apiKey>`):
 *
 * - `GET /api/calls?limit=&before=` → `{ calls: CallSummary[], nextBefore: string | null }`, newest first.
 *   `nextBefore` is the last call's startedAt when more calls exist (pass it as `before` for the next page), else null.
 *   400 `{error}` on a bad query.
 * - `GET /api/calls/:callSid` → exactly `CallsRepo.detail()` (`CallDetail`); 404 `{error}` when unknown.
 * - `GET /api/agents` → `{ agents: Agent[] }`.
 *
 * Rate-limited per client (default 600 requests/min, 429 beyond). Responses are JSON with `Cache-Control: no-store`. Errors thrown by the repositories reach the app's error handler.
 */
export function createApiRouter(d: { calls: CallsRepo; agents: AgentsRepo; apiKey: string; requestsPerMinute?: number }): Router {
  const r = Router();
  // Per-client limit in front of authentication, so a leaked or guessed key cannot be brute-forced quickly.
  const limiter = rateLimit({ windowMs: 60_000, limit: d.requestsPerMinute ?? 600, standardHeaders: 'draft-8', legacyHeaders: false, message: { error: 'too many requests' } });
  r.use('/api', limiter, apiAuth(d.apiKey), (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  r.get('/api/calls', async (req, res) => {
    const q = listCallsQuery.safeParse(req.query);
    if (!q.success) {
      res.status(400).json({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
      return;
    }
    // One extra row tells whether another page exists.
    const rows = await d.calls.list({ limit: q.data.limit + 1, before: q.data.before });
    const calls = rows.slice(0, q.data.limit).map(callSummary);
    res.json({ calls, nextBefore: rows.length > q.data.limit ? calls[calls.length - 1].startedAt : null });
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
    res.json({ agents: await d.agents.list() });
  });

  return r;
}
