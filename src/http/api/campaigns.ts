import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { AgentsRepo } from '../../db/agents';
import { AuditRepo } from '../../db/audit';
import { CampaignContactsRepo } from '../../db/campaign-contacts';
import { CampaignsRepo, type CampaignProgress } from '../../db/campaigns';
import { CAMPAIGN_STATES, campaignCreateSchema, type Campaign, type CampaignState } from '../../domain/campaign';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { CAMPAIGN_EXAMPLE, CREATE_EXAMPLE, LIVE_EDITABLE, PROGRESS_EXAMPLE, campaignPatchSchema, campaignProgressSchema, campaignSchema } from './campaign-schemas';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';

/** `:id` of a campaign. */
export const campaignParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'id must be 1-64 letters, digits, _ . -') });
const error = (description: string) => ({ description, schema: errorSchema });

/** Allowed state changes: action → states it may start from, and the state it leads to. */
const TRANSITIONS: Record<'start' | 'pause' | 'resume' | 'cancel', { from: CampaignState[]; to: CampaignState; summary: string }> = {
  start: { from: ['draft'], to: 'running', summary: 'Start a draft campaign (it needs at least one contact)' },
  pause: { from: ['running'], to: 'paused', summary: 'Pause a running campaign (calls in progress finish; no new dials)' },
  resume: { from: ['paused'], to: 'running', summary: 'Resume a paused campaign (clears pauseReason)' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'cancelled', summary: 'Cancel a campaign for good (no new dials; contacts keep their state)' },
};

/** Contact states still to be dialed (ETA). */
const REMAINING = ['pending', 'retry-scheduled', 'dialing', 'in-progress'] as const;
/** Assumed mean attempt length before any attempt has ended (s). */
const DEFAULT_ATTEMPT_SECONDS = 60;

/** The ETA of `GET /api/campaigns/:id` (formula in campaignProgressSchema's `eta` description). */
export function campaignEta(c: Pick<Campaign, 'cps' | 'maxConcurrent'>, p: CampaignProgress): { remainingContacts: number; callsPerSecond: number; seconds: number } {
  const remainingContacts = REMAINING.reduce((n, s) => n + p.counts[s], 0);
  const mean = p.meanAttemptSeconds && p.meanAttemptSeconds > 0 ? p.meanAttemptSeconds : DEFAULT_ATTEMPT_SECONDS;
  const callsPerSecond = Math.min(c.cps, c.maxConcurrent / mean);
  return { remainingContacts, callsPerSecond: Number(callsPerSecond.toFixed(4)), seconds: Math.ceil(remainingContacts / callsPerSecond) };
}

/** 400 on `body.agentId` when the agent is unknown or archived, else null (locks the agent row). */
async function agentProblem(trx: Knex.Transaction, agentId: string) {
  const agent = await new AgentsRepo(trx).getForUpdate(agentId);
  const message = !agent ? `agent ${agentId} does not exist` : agent.archivedAt ? `agent ${agentId} is archived; unarchive it or choose another agent` : null;
  return message && reply(400, { error: `body.agentId: ${message}`, issues: [{ path: 'body.agentId', message }] });
}

/**
 * The campaigns resource: `POST/GET /api/campaigns`, `GET/PATCH /api/campaigns/:id`,
 * `POST /api/campaigns/:id/{start,pause,resume,cancel}`. Reads `viewer`, writes `supervisor`; each write records an
 * audit entry (`campaign.create|update|start|pause|resume|cancel`) in its transaction.
 *
 * State machine: draft → running (start; needs ≥ 1 contact and a usable agent), running ⇄ paused, draft | running |
 * paused → cancelled; `completed` is set by the dispatcher. Anything else → 409 naming the current state. Cancelling
 * leaves contact states as they are: the dispatcher only dials contacts of running campaigns.
 * A draft may change every field; running/paused only name, maxConcurrent, cps, window, retry, voicemailMessage (409
 * naming the others); completed/cancelled nothing.
 */
export function campaignRoutes(d: { db: Knex }): ApiRoute<any, any, any>[] {
  const campaigns = new CampaignsRepo(d.db);
  const record = (trx: Knex.Transaction, principal: Principal, action: string, id: string, before: Campaign | null, after: Campaign | null) =>
    new AuditRepo(trx).record({ actor: actorOf(principal), action: `campaign.${action}`, entityType: 'campaign', entityId: id, before, after }, trx);
  const notFound = (id: string) => new ApiError(404, `campaign ${id} not found`);

  const transitionRoute = (action: keyof typeof TRANSITIONS) =>
    defineRoute({
      method: 'post',
      path: `/api/campaigns/:id/${action}`,
      role: 'supervisor',
      tag: 'campaigns',
      summary: TRANSITIONS[action].summary,
      params: campaignParams,
      responses: { 200: { description: 'The campaign in its new state.', schema: campaignSchema }, 404: error('No such campaign.'), 409: error('Not allowed from the current state (named), or nothing to dial.') },
      examples: { response: { ...CAMPAIGN_EXAMPLE, state: TRANSITIONS[action].to } },
      handler: ({ params, principal }) =>
        campaigns.transaction(async (repo, trx) => {
          const before = await repo.get(params.id, { lock: true });
          if (!before) throw notFound(params.id);
          const t = TRANSITIONS[action];
          if (!t.from.includes(before.state)) throw new ApiError(409, `cannot ${action} a campaign that is ${before.state} (allowed from: ${t.from.join(', ')})`);
          if (action === 'start') {
            if (!(await new CampaignContactsRepo(trx).count(before.id))) throw new ApiError(409, 'the campaign has no contacts; add contacts before starting it');
            const agent = await new AgentsRepo(trx).get(before.agentId);
            if (!agent || agent.archivedAt) throw new ApiError(409, `agent ${before.agentId} is archived or gone; PATCH the campaign's agentId first`);
          }
          const after = await repo.setState(before.id, t.to);
          await record(trx, principal, action, before.id, before, after);
          return after as unknown as Record<string, unknown>;
        }),
    });

  return [
    defineRoute({
      method: 'post',
      path: '/api/campaigns',
      role: 'supervisor',
      tag: 'campaigns',
      summary: 'Create a campaign (draft)',
      body: campaignCreateSchema.meta({ id: 'CampaignCreate' }),
      responses: { 201: { description: 'Created as draft (`Location` names it).', schema: campaignSchema } },
      examples: { body: CREATE_EXAMPLE, response: CAMPAIGN_EXAMPLE },
      handler: ({ body, principal }) =>
        campaigns.transaction(async (repo, trx) => {
          const bad = await agentProblem(trx, body.agentId);
          if (bad) return bad;
          const created = await repo.create(body);
          await record(trx, principal, 'create', created.id, null, created);
          return reply(201, created, { Location: `/api/campaigns/${created.id}` });
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/campaigns',
      role: 'viewer',
      tag: 'campaigns',
      summary: 'List campaigns (newest first)',
      query: z.strictObject({ state: z.enum(CAMPAIGN_STATES).optional() }),
      responses: { 200: { description: 'The campaigns.', schema: z.object({ campaigns: z.array(campaignSchema) }) } },
      examples: { response: { campaigns: [CAMPAIGN_EXAMPLE] } },
      handler: async ({ query }) => ({ campaigns: await campaigns.list({ state: query.state }) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/campaigns/:id',
      role: 'viewer',
      tag: 'campaigns',
      summary: 'A campaign with its progress (counts per contact state, funnel, attempts used, ETA)',
      params: campaignParams,
      responses: { 200: { description: 'The campaign and its progress.', schema: campaignProgressSchema }, 404: error('No such campaign.') },
      examples: { response: PROGRESS_EXAMPLE },
      handler: async ({ params }) => {
        const c = await campaigns.get(params.id);
        if (!c) throw notFound(params.id);
        const p = await campaigns.progress(c.id);
        return { ...c, counts: p.counts, funnel: p.funnel, attemptsUsed: p.attemptsUsed, eta: campaignEta(c, p) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/campaigns/:id',
      role: 'supervisor',
      tag: 'campaigns',
      summary: 'Change a campaign',
      description: 'Absent fields are kept; window and retry are replaced whole. Draft: any field. Running or paused: name, maxConcurrent, cps, window, retry, voicemailMessage only (the dispatcher applies them to its next decisions).',
      params: campaignParams,
      body: campaignPatchSchema,
      responses: { 200: { description: 'The campaign.', schema: campaignSchema }, 404: error('No such campaign.'), 409: error('A field the current state does not allow to change (named).') },
      examples: { body: { maxConcurrent: 5, cps: 2 }, response: { ...CAMPAIGN_EXAMPLE, maxConcurrent: 5, cps: 2 } },
      handler: ({ params, body, principal }) =>
        campaigns.transaction(async (repo, trx) => {
          const before = await repo.get(params.id, { lock: true });
          if (!before) throw notFound(params.id);
          const fields = Object.keys(body).filter((k) => (body as Record<string, unknown>)[k] !== undefined);
          if (before.state === 'completed' || before.state === 'cancelled') throw new ApiError(409, `a ${before.state} campaign cannot be changed`);
          const frozen = before.state === 'draft' ? [] : fields.filter((f) => !LIVE_EDITABLE.has(f));
          if (frozen.length) throw new ApiError(409, `a ${before.state} campaign cannot change ${frozen.join(', ')} (only ${[...LIVE_EDITABLE].join(', ')})`);
          if (body.agentId !== undefined && body.agentId !== before.agentId) {
            const bad = await agentProblem(trx, body.agentId);
            if (bad) return bad;
          }
          if (!fields.length) return before as unknown as Record<string, unknown>;
          const after = (await repo.update(before.id, body))!;
          await record(trx, principal, 'update', before.id, before, after);
          return after as unknown as Record<string, unknown>;
        }),
    }),
    transitionRoute('start'),
    transitionRoute('pause'),
    transitionRoute('resume'),
    transitionRoute('cancel'),
  ];
}
