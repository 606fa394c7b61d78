import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import { AuditRepo } from '../../db/audit';
import { agentSchema, AgentsRepo, publicAgent, type Agent, type AgentInput } from '../../db/agents';
import { PhoneNumbersRepo } from '../../db/phone-numbers';
import type { HttpToolSpec } from '../../domain/tools';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { agentCreateSchema, agentExamples, agentPatchSchema, publicAgentSchema, type AgentCreate, type AgentPatch } from './agent-schemas';
import { ApiError, defineRoute, errorSchema, reply, validationError, type ApiRoute, type RouteResponse } from './route';

const idParams = z.strictObject({ id: agentSchema.shape.id });
const agentBody = z.object({ agent: publicAgentSchema });
const listQuery = z.strictObject({
  includeArchived: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'Also list archived agents (default false).' }),
});

/**
 * An id from a display name: lowercase ASCII slug (accents dropped, other characters → `-`, at most 40) + `-` +
 * 6 random base-36 characters, e.g. `Support (English)` → `support-english-k3x9q2`; `agent-…` when nothing is left.
 */
export function agentIdFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  const suffix = BigInt(`0x${randomBytes(8).toString('hex')}`).toString(36).slice(0, 6).padStart(6, '0');
  return `${slug || 'agent'}-${suffix}`;
}

/**
 * Tools of an update: each given tool keeps the stored secret of the stored tool of the same name when its
 * `secret` is absent; `secret: null` clears it.
 */
function mergeTools(given: NonNullable<AgentPatch['tools']>, stored: HttpToolSpec[]): HttpToolSpec[] {
  return given.map(({ secret, ...t }) => {
    const kept = secret === undefined ? stored.find((x) => x.name === t.name)?.secret : (secret ?? undefined);
    return kept ? { ...t, secret: kept } : t;
  });
}

const dropNullSecrets = (tools: NonNullable<AgentCreate['tools']>): HttpToolSpec[] => tools.map(({ secret, ...t }) => (secret ? { ...t, secret } : t));

/** A whole agent that failed validation: the 400 body (`{ error, issues }` with `body.` paths). */
class Invalid {
  constructor(readonly body: ReturnType<typeof validationError>) {}
}

/** Validates a whole agent (the merged result of a create or an update). */
function validAgent(candidate: unknown): AgentInput | Invalid {
  const r = agentSchema.safeParse(candidate);
  return r.success ? r.data : new Invalid(validationError([['body', r.error]]));
}

const notFound = (id: string) => new ApiError(404, `agent ${id} not found`);
const location = (id: string) => ({ Location: `/api/agents/${encodeURIComponent(id)}` });

/**
 * The agents resource (`/api/agents`), as route-table routes (mount with `mountRoutes`, document with
 * `openApiDocument`). Reads need `viewer`, writes `supervisor`. Responses never contain tool secrets (`hasSecret`
 * instead). Every write records an audit entry (`agent.create`, `agent.update`, `agent.archive`,
 * `agent.unarchive`; before/after without secrets) in the same transaction as the change; making an agent the
 * default also records an `agent.update` of the previous default. No hard delete: archive instead (calls keep
 * referencing the agent; it takes no new calls).
 */
export function agentRoutes(d: { db: Knex }): ApiRoute<any, any, any>[] {
  const agents = new AgentsRepo(d.db);

  /** Writes `next` (create or update) with the default-agent rule and the audit entries, inside `repo`'s transaction `trx`. */
  async function save(principal: Principal, action: 'agent.create' | 'agent.update', next: AgentInput, before: Agent | null, repo: AgentsRepo, trx: Knex.Transaction): Promise<Agent> {
    const audit = new AuditRepo(trx);
    const actor = actorOf(principal);
    if (next.isDefault) {
      if (before?.archivedAt) throw new ApiError(409, `agent ${next.id} is archived and cannot be the default; unarchive it first`);
      for (const old of await repo.clearDefaultExcept(next.id)) {
        await audit.record({ actor, action: 'agent.update', entityType: 'agent', entityId: old.id, before: publicAgent(old), after: publicAgent({ ...old, isDefault: false }) }, trx);
      }
    }
    const saved = action === 'agent.create' ? await repo.create(next) : await repo.update(next);
    if (!saved) throw action === 'agent.create' ? new ApiError(409, `agent ${next.id} already exists`) : notFound(next.id);
    await audit.record({ actor, action, entityType: 'agent', entityId: saved.id, before: before && publicAgent(before), after: publicAgent(saved) }, trx);
    return saved;
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/agents',
      role: 'viewer',
      tag: 'agents',
      summary: 'List agents',
      description: 'Default agent first, then by id. Archived agents only with `includeArchived=true`.',
      query: listQuery,
      responses: { 200: { description: 'The agents.', schema: z.object({ agents: z.array(publicAgentSchema) }) } },
      examples: { response: { agents: [agentExamples.agent] } },
      handler: async ({ query }) => ({ agents: (await agents.list()).filter((a) => query.includeArchived || !a.archivedAt).map(publicAgent) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/agents/:id',
      role: 'viewer',
      tag: 'agents',
      summary: 'Get an agent',
      params: idParams,
      responses: { 200: { description: 'The agent (archived ones too).', schema: agentBody }, 404: { description: 'No such agent.', schema: errorSchema } },
      examples: { response: { agent: agentExamples.agent } },
      handler: async ({ params }) => {
        const a = await agents.get(params.id);
        if (!a) throw notFound(params.id);
        return { agent: publicAgent(a) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/agents',
      role: 'supervisor',
      tag: 'agents',
      summary: 'Create an agent',
      description:
        '`id` is generated from the name when omitted. Defaults: `languages` `[defaultLanguage ?? "en"]`, `defaultLanguage` the first language, no voices, intents, tools or handoff number. `isDefault: true` takes the default flag from the previous default agent.',
      body: agentCreateSchema,
      responses: {
        201: { description: 'Created (`Location` names it).', schema: agentBody },
        409: { description: 'An agent with this id exists.', schema: errorSchema },
      },
      examples: { body: agentExamples.create, response: { agent: agentExamples.agent } },
      handler: async ({ body, principal }) => {
        const languages = body.languages ?? [body.defaultLanguage ?? 'en'];
        const candidate = {
          voices: {},
          intents: [],
          handoffNumber: null,
          isDefault: false,
          ...body,
          id: body.id ?? agentIdFromName(body.name),
          languages,
          defaultLanguage: body.defaultLanguage ?? languages[0],
          tools: dropNullSecrets(body.tools ?? []),
        };
        const next = validAgent(candidate);
        if (next instanceof Invalid) return reply(400, next.body);
        const saved = await agents.transaction((repo, trx) => save(principal, 'agent.create', next, null, repo, trx));
        return reply(201, { agent: publicAgent(saved) }, location(saved.id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/agents/:id',
      role: 'supervisor',
      tag: 'agents',
      summary: 'Update an agent',
      description:
        'Each given field replaces the stored one (objects such as `voices` are replaced whole); the result is validated as a whole agent. A tool without `secret` keeps the stored secret of the tool of the same name. Applies to the next call, not to calls in progress.',
      params: idParams,
      body: agentPatchSchema,
      responses: {
        200: { description: 'The updated agent.', schema: agentBody },
        404: { description: 'No such agent.', schema: errorSchema },
        409: { description: 'An archived agent cannot become the default.', schema: errorSchema },
      },
      examples: { body: agentExamples.patch, response: { agent: agentExamples.agent } },
      handler: async ({ params, body, principal }) => {
        const outcome = await agents.transaction(async (repo, trx) => {
          const before = await repo.getForUpdate(params.id);
          if (!before) throw notFound(params.id);
          const { tools, ...rest } = body;
          const next = validAgent({ ...before, ...rest, id: before.id, tools: tools ? mergeTools(tools, before.tools) : before.tools });
          if (next instanceof Invalid) return next;
          if (JSON.stringify(agentSchema.parse(next)) === JSON.stringify(agentSchema.parse(before))) return before;
          return save(principal, 'agent.update', next, before, repo, trx);
        });
        return outcome instanceof Invalid ? reply(400, outcome.body) : { agent: publicAgent(outcome) };
      },
    }),
    ...(['archive', 'unarchive'] as const).map((verb) =>
      defineRoute({
        method: 'post',
        path: `/api/agents/:id/${verb}`,
        role: 'supervisor',
        tag: 'agents',
        summary: verb === 'archive' ? 'Archive an agent' : 'Unarchive an agent',
        description:
          verb === 'archive'
            ? 'The agent takes no new calls; past calls keep referencing it. Refused (409) for the default agent and for an agent that phone numbers still route to. Archiving an archived agent changes nothing.'
            : 'The agent can take calls again (route numbers to it, or make it the default). Unarchiving an active agent changes nothing.',
        params: idParams,
        responses: {
          200: { description: 'The agent.', schema: agentBody },
          404: { description: 'No such agent.', schema: errorSchema },
          ...(verb === 'archive' ? { 409: { description: 'The agent is the default, or numbers route to it.', schema: errorSchema } } : {}),
        } as Record<number, RouteResponse>,
        examples: { response: { agent: { ...agentExamples.agent, isDefault: false, archivedAt: verb === 'archive' ? '2026-12-02T10:00:00.000Z' : null } } },
        handler: async ({ params, principal }) => {
          const saved = await agents.transaction(async (repo, trx) => {
            const before = await repo.getForUpdate(params.id);
            if (!before) throw notFound(params.id);
            if (!!before.archivedAt === (verb === 'archive')) return before;
            if (verb === 'archive') {
              if (before.isDefault) throw new ApiError(409, `agent ${before.id} is the default agent; make another agent the default (or set isDefault false) first`);
              const numbers = (await new PhoneNumbersRepo(trx).list({ agentId: before.id })).map((n) => n.number);
              if (numbers.length) throw new ApiError(409, `phone numbers still route to agent ${before.id} (${numbers.slice(0, 5).join(', ')}${numbers.length > 5 ? ', …' : ''}); route them to another agent or delete them first`);
            }
            const after = (await repo.setArchived(before.id, verb === 'archive'))!;
            await new AuditRepo(trx).record({ actor: actorOf(principal), action: `agent.${verb}`, entityType: 'agent', entityId: before.id, before: publicAgent(before), after: publicAgent(after) }, trx);
            return after;
          });
          return { agent: publicAgent(saved) };
        },
      }),
    ),
  ];
}
