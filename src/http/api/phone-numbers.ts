import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { AgentsRepo, agentSchema } from '../../db/agents';
import { AuditRepo } from '../../db/audit';
import { PhoneNumbersRepo, type PhoneNumber } from '../../db/phone-numbers';
import { pathPhoneNumberSchema as pathNumber, phoneNumberInputSchema } from '../../domain/phone-number';
import type { Principal } from '../auth/principal';
import { actorOf } from './audit';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';

const EXAMPLE: PhoneNumber = { number: '+14155550100', agentId: 'support-en', label: 'Support line, US', createdAt: '2026-12-02T10:00:00.000Z', updatedAt: '2026-12-02T10:00:00.000Z' };

/** A configured number as responses show it. */
export const phoneNumberSchema = z
  .object({
    number: z.string().meta({ description: 'E.164.' }),
    agentId: agentSchema.shape.id,
    label: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'PhoneNumber', example: EXAMPLE });

const label = z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters').nullable().meta({ description: 'A human label, or null.' });
const numberInput = phoneNumberInputSchema.meta({ description: 'In international form (`+1 415 555 0100`, `+14155550100`); stored as E.164.' });

const createBody = z.strictObject({ number: numberInput, agentId: agentSchema.shape.id, label: label.optional() }).meta({ id: 'PhoneNumberCreate' });
const patchBody = z.strictObject({ agentId: agentSchema.shape.id.optional(), label: label.optional() }).meta({ id: 'PhoneNumberPatch' });
const numberParams = z.strictObject({ number: pathNumber.meta({ description: 'The number in international form, URL-encoded (`%2B14155550100`).' }) });
const one = z.object({ phoneNumber: phoneNumberSchema });
const notFound = (n: string) => new ApiError(404, `phone number ${n} is not configured`);

/** A 400 naming `body.agentId` when the agent is unknown or archived, else null. Locks the agent row (so a concurrent archive waits). */
async function agentProblem(trx: Knex.Transaction, agentId: string) {
  const agent = await new AgentsRepo(trx).getForUpdate(agentId);
  const message = !agent ? `agent ${agentId} does not exist` : agent.archivedAt ? `agent ${agentId} is archived; unarchive it or choose another agent` : null;
  return message && reply(400, { error: `body.agentId: ${message}`, issues: [{ path: 'body.agentId', message }] });
}

/**
 * The phone numbers resource (`/api/phone-numbers`): which agent answers calls to each number. Numbers are
 * validated with libphonenumber-js and stored as E.164; in paths they are URL-encoded (`/api/phone-numbers/%2B14155550100`).
 * Reads need `viewer`, writes `supervisor`; every write records an audit entry (`phone_number.create|update|delete`,
 * before/after) in its transaction. Routing to an unknown or archived agent is a 400 on `body.agentId`.
 */
export function phoneNumberRoutes(d: { db: Knex }): ApiRoute<any, any, any>[] {
  const numbers = new PhoneNumbersRepo(d.db);
  const record = (trx: Knex.Transaction, principal: Principal, action: string, number: string, before: PhoneNumber | null, after: PhoneNumber | null) =>
    new AuditRepo(trx).record({ actor: actorOf(principal), action: `phone_number.${action}`, entityType: 'phone_number', entityId: number, before, after }, trx);

  return [
    defineRoute({
      method: 'get',
      path: '/api/phone-numbers',
      role: 'viewer',
      tag: 'phone-numbers',
      summary: 'List phone numbers',
      query: z.strictObject({ agentId: agentSchema.shape.id.optional().meta({ description: "Only this agent's numbers." }) }),
      responses: { 200: { description: 'The numbers, by number.', schema: z.object({ phoneNumbers: z.array(phoneNumberSchema) }) } },
      examples: { response: { phoneNumbers: [EXAMPLE] } },
      handler: async ({ query }) => ({ phoneNumbers: await numbers.list({ agentId: query.agentId }) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/phone-numbers/:number',
      role: 'viewer',
      tag: 'phone-numbers',
      summary: 'Get a phone number',
      params: numberParams,
      responses: { 200: { description: 'The number.', schema: one }, 404: { description: 'Not configured.', schema: errorSchema } },
      examples: { response: { phoneNumber: EXAMPLE } },
      handler: async ({ params }) => {
        const n = await numbers.get(params.number);
        if (!n) throw notFound(params.number);
        return { phoneNumber: n };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/phone-numbers',
      role: 'supervisor',
      tag: 'phone-numbers',
      summary: 'Route a phone number to an agent',
      body: createBody,
      responses: {
        201: { description: 'Configured (`Location` names it).', schema: one },
        409: { description: 'The number is already configured (PATCH it instead).', schema: errorSchema },
      },
      examples: { body: { number: '+1 415 555 0100', agentId: 'support-en', label: 'Support line, US' }, response: { phoneNumber: EXAMPLE } },
      handler: ({ body, principal }) =>
        numbers.transaction(async (repo, trx) => {
          const bad = await agentProblem(trx, body.agentId);
          if (bad) return bad;
          const created = await repo.create(body);
          if (!created) throw new ApiError(409, `${body.number} is already configured (routed to agent ${(await repo.get(body.number))?.agentId}); PATCH it instead`);
          await record(trx, principal, 'create', created.number, null, created);
          return reply(201, { phoneNumber: created }, { Location: `/api/phone-numbers/${encodeURIComponent(created.number)}` });
        }),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/phone-numbers/:number',
      role: 'supervisor',
      tag: 'phone-numbers',
      summary: 'Change the agent or label of a phone number',
      description: 'Absent fields are kept. Applies to the next call to the number.',
      params: numberParams,
      body: patchBody,
      responses: { 200: { description: 'The number.', schema: one }, 404: { description: 'Not configured.', schema: errorSchema } },
      examples: { body: { agentId: 'sales-en' }, response: { phoneNumber: { ...EXAMPLE, agentId: 'sales-en' } } },
      handler: ({ params, body, principal }) =>
        numbers.transaction(async (repo, trx) => {
          const before = await repo.get(params.number, { lock: true });
          if (!before) throw notFound(params.number);
          const changes = {
            ...(body.agentId !== undefined && body.agentId !== before.agentId ? { agentId: body.agentId } : {}),
            ...(body.label !== undefined && body.label !== before.label ? { label: body.label } : {}),
          };
          if (!Object.keys(changes).length) return { phoneNumber: before };
          if (changes.agentId) {
            const bad = await agentProblem(trx, changes.agentId);
            if (bad) return bad;
          }
          const after = (await repo.update(before.number, changes))!;
          await record(trx, principal, 'update', after.number, before, after);
          return { phoneNumber: after };
        }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/phone-numbers/:number',
      role: 'supervisor',
      tag: 'phone-numbers',
      summary: 'Remove a phone number',
      description: 'Calls to it are then handled as calls to an unconfigured number.',
      params: numberParams,
      responses: { 204: { description: 'Removed.' }, 404: { description: 'Not configured.', schema: errorSchema } },
      handler: ({ params, principal }) =>
        numbers.transaction(async (repo, trx) => {
          const before = await repo.delete(params.number);
          if (!before) throw notFound(params.number);
          await record(trx, principal, 'delete', before.number, before, null);
          return reply(204);
        }),
    }),
  ];
}
