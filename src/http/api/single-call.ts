import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import 'zod-openapi';
import { DialRefused, type DialerPort } from '../../campaigns/dialer-port';
import { AgentsRepo, agentSchema } from '../../db/agents';
import { DncRepo } from '../../db/dnc';
import { phoneNumberInputSchema } from '../../domain/phone-number';
import { variableName } from '../../domain/template';
import { ApiError, defineRoute, errorSchema, reply, type ApiRoute } from './route';

const bodySchema = z
  .strictObject({
    to: phoneNumberInputSchema.meta({ description: 'The callee, international form.' }),
    agentId: agentSchema.shape.id,
    from: phoneNumberInputSchema.optional().meta({ description: "Caller ID; default: the agent's first phone number (by number)." }),
    variables: z.record(z.string().min(1).max(100), z.string().max(2_000)).optional().meta({ description: 'Template variables of the agent’s first message and prompt (`{{first_name}}`).' }),
  })
  .meta({ id: 'SingleCall' });
type Body = z.infer<typeof bodySchema>;

const resultSchema = z.object({ attemptId: z.uuid(), callSid: z.string(), status: z.string().meta({ description: 'The attempt status (Twilio CallStatus once callbacks arrive).' }) }).meta({ id: 'SingleCallResult' });
const error = (description: string) => ({ description, schema: errorSchema });
const EXAMPLE = { attemptId: '5f0e6a9c-0c1b-4c55-8d1e-7a2b3c4d5e6f', callSid: 'CA0123456789abcdef0123456789abcdef', status: 'queued' };

/** SHA-256 (hex) of the validated body with object keys sorted: equal requests hash equal. */
export function requestHash(body: Body): string {
  const canon = (v: unknown): unknown => (v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as any)[k])])) : v);
  return createHash('sha256').update(JSON.stringify(canon(body))).digest('hex');
}

/** The stored answer of an earlier request with the same key. */
function replay(row: Record<string, any>, hash: string) {
  if (row.request_hash !== hash) throw new ApiError(422, 'this Idempotency-Key was used with a different request body; use a new key');
  if (row.error) throw new ApiError(String(row.error).startsWith('refused:') ? 409 : 502, String(row.error).replace(/^refused:/, ''));
  if (!row.call_sid) throw new ApiError(409, 'the first request with this Idempotency-Key is still being dialed; retry shortly');
  return reply(200, { attemptId: row.id, callSid: row.call_sid, status: row.status });
}

/**
 * `POST /api/calls { to, agentId, from?, variables? }` with an `Idempotency-Key` header (1–200 characters;
 * draft-ietf-httpapi-idempotency-key-header): places one outbound call with the agent. The first request writes a
 * `call_attempts` row (uuid id, the key, a SHA-256 of the normalised body) and asks the dialer to dial it → 201
 * `{ attemptId, callSid, status }`. A repeat with the same key and body answers the first result (200) without
 * dialing; another body under that key → 422; while the first is still dialing → 409. A DNC-listed `to` → 409 (checked
 * here and again by the dialer); Twilio refusing → 502. Without a dialer (not configured) → 503. Role `supervisor`.
 */
export function singleCallRoutes(d: { db: Knex; dialer?: DialerPort }): ApiRoute<any, any, any>[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/calls',
      role: 'supervisor',
      tag: 'calls',
      summary: 'Place one outbound call (Idempotency-Key required)',
      description: 'Send `Idempotency-Key: <1-200 chars>`; repeating the request with the key returns the first answer and never dials twice.',
      body: bodySchema,
      responses: {
        201: { description: 'Dialed.', schema: resultSchema },
        200: { description: 'A repeat of an earlier request with this key: its answer.', schema: resultSchema },
        404: error('No such agent.'),
        409: error('The number is on the do-not-call list, or the first request with this key is still dialing.'),
        422: error('The key was used with another body.'),
        502: error('Twilio refused the call.'),
        503: error('Outbound dialing is not configured.'),
      },
      examples: { body: { to: '+1 415 555 0123', agentId: 'renewals-en', variables: { first_name: 'Ada' } }, response: EXAMPLE },
      handler: async ({ req, body }) => {
        const key = req.get('idempotency-key');
        if (!key || key.length > 200) {
          const message = key ? 'at most 200 characters' : 'required (1-200 characters, e.g. a uuid)';
          return reply(400, { error: `headers.idempotency-key: ${message}`, issues: [{ path: 'headers.idempotency-key', message }] });
        }
        return placeSingleCall(d, key, body);
      },
    }),
  ];
}

/** The input of {@link placeSingleCall}: the `POST /api/calls` body. */
export type SingleCallInput = Body;

/**
 * Places one outbound call under an idempotency key (the `POST /api/calls` logic, shared with inbound triggers,
 * src/http/inbound-triggers.ts): 201 `{ attemptId, callSid, status }` for a new key, the first answer (200) for a repeat
 * with the same body. @throws ApiError 404 (no agent), 409 (archived agent, DNC, still dialing, dialer refused),
 * 422 (key reused with another body), 502 (Twilio refused), 503 (no dialer); a 400 reply when the agent has no number.
 */
export async function placeSingleCall(d: { db: Knex; dialer?: DialerPort }, key: string, body: Body) {
    if (!d.dialer) throw new ApiError(503, 'outbound dialing is not configured on this server');
    const dialer = d.dialer;
    const b = { ...body, variables: body.variables && Object.fromEntries(Object.entries(body.variables).map(([k, v]) => [variableName(k), v])) } as Body;
    const hash = requestHash(b);
    const earlier = await d.db('call_attempts').where({ idempotency_key: key }).first();
    if (earlier) return replay(earlier, hash);
    const agent = await new AgentsRepo(d.db).get(b.agentId);
    if (!agent) throw new ApiError(404, `agent ${b.agentId} does not exist`);
    if (agent.archivedAt) throw new ApiError(409, `agent ${b.agentId} is archived`);
    if (await new DncRepo(d.db).isListed(b.to)) throw new ApiError(409, `${b.to} is on the do-not-call list`);
    const from = b.from ?? (await d.db('phone_numbers').where({ agent_id: agent.id }).orderBy('e164').first('e164'))?.e164;
    if (!from) return reply(400, { error: `body.from: agent ${agent.id} has no phone number; give from`, issues: [{ path: 'body.from', message: 'required: the agent has no phone number' }] });
    const [row] = await d
      .db('call_attempts')
      .insert({ id: randomUUID(), attempt_no: 1, to_number: b.to, from_number: from, agent_id: agent.id, variables: JSON.stringify(b.variables ?? {}), idempotency_key: key, request_hash: hash })
      .onConflict('idempotency_key')
      .ignore()
      .returning('*');
    if (!row) return replay(await d.db('call_attempts').where({ idempotency_key: key }).first(), hash);
    let callSid: string;
    try {
      ({ callSid } = await dialer.dial(row.id));
    } catch (err) {
      const refused = err instanceof DialRefused;
      const message = refused ? err.message : `the call could not be placed: ${(err as Error).message}`;
      await d.db('call_attempts').where({ id: row.id }).update({ status: 'failed', error: refused ? `refused:${message}` : message, ended_at: d.db.fn.now() });
      throw new ApiError(refused ? 409 : 502, message);
    }
    await d.db('call_attempts').where({ id: row.id }).whereNull('call_sid').update({ call_sid: callSid });
    const after = await d.db('call_attempts').where({ id: row.id }).first('status');
    return reply(201, { attemptId: row.id, callSid, status: after?.status ?? row.status });
}
