import { z } from 'zod';
import 'zod-openapi';
import type { AuditRepo } from '../../db/audit';
import type { LiveCommand } from '../../live/commands';
import type { LiveFeed } from '../../live/feed';
import type { LiveStreamHub } from '../../live/stream';
import type { LiveCallSnapshot } from '../../live/types';
import { phoneNumberInputSchema } from '../../domain/phone-number';
import type { Principal } from '../auth/principal';
import { callSidParams } from './calls';
import { turnTimingsSchema } from '../call-shapes';
import { ApiError, defineRoute, docOnlyRoute, errorSchema, reply, type ApiRoute } from './route';

const isoTime = z.iso.datetime({ offset: true });
const EXAMPLE_SID = 'CA0123456789abcdef0123456789abcdef';

const liveTurnSchema = z
  .object({
    seq: z.number().int().meta({ description: 'Order in the call (1, 2, …): apply each turn once.' }),
    role: z.enum(['caller', 'agent']),
    text: z.string().meta({ description: 'For an interrupted agent turn: what the caller heard.' }),
    language: z.string().nullable(),
    startMs: z.number().meta({ description: 'ms since the media stream started' }),
    endMs: z.number(),
    intent: z.string().nullable().optional(),
    sttConfidence: z.number().nullable().optional(),
    understood: z.boolean().optional(),
    interrupted: z.boolean().optional(),
    unheardText: z.string().nullable().optional().meta({ description: "For an interrupted agent turn: the reply's text the caller did not hear (as the agent had it at the cut)." }),
    timings: turnTimingsSchema.nullable().optional(),
  })
  .meta({ id: 'LiveTurn' });

const liveCallFields = {
  callSid: z.string(),
  agentId: z.string(),
  direction: z.string().meta({ description: '`inbound` | `outbound-api` | `outbound-dial` | `web`' }),
  from: z.string(),
  to: z.string(),
  startedAt: isoTime,
  instanceId: z.string().meta({ description: 'The server instance holding the call.' }),
};
const liveCallSchema = z.object(liveCallFields).meta({ id: 'LiveCall' });
const liveCallSnapshotSchema = z.object({ ...liveCallFields, turns: z.array(liveTurnSchema) }).meta({ id: 'LiveCallSnapshot' });

/** Every SSE message's `data` (the `event:` name is its `type`). */
const liveEventSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('call.started'), call: liveCallSchema }),
    z.object({ type: z.literal('call.turn'), callSid: z.string(), turn: liveTurnSchema }),
    z.object({
      type: z.literal('call.event'),
      callSid: z.string(),
      event: z.object({ type: z.string().meta({ description: '`transfer`, `hangup`, `barge_in`, `opt_out`, `dtmf`, `provider.error`' }), payload: z.record(z.string(), z.unknown()), at: isoTime }),
    }),
    z.object({ type: z.literal('call.ended'), callSid: z.string(), reason: z.string(), endedAt: isoTime }),
  ])
  .meta({ id: 'LiveEvent' });

const accepted = z.object({ callSid: z.string(), accepted: z.literal(true) }).meta({ id: 'LiveActionAccepted' });
const notLive = { description: 'No live call with this callSid (unknown or ended).', schema: errorSchema };
const actorOf = (p: Principal) => ({ kind: p.kind, id: p.id, label: p.label });

/** What the live routes use of the process's live-calls service (src/live-calls.ts). */
export interface LiveRouteDeps {
  feed: Pick<LiveFeed, 'snapshot' | 'ownerOf'>;
  commands: { send(owner: string, c: LiveCommand): Promise<boolean> };
  hub: Pick<LiveStreamHub, 'add'>;
  audit: AuditRepo;
}

/** Path of the listen-in WebSocket (documented here, served by src/http/routes/live-listen.ts). */
export const LISTEN_PATH = '/api/live/calls/:callSid/listen';

/**
 * Live calls across every server instance (fed through Redis, see src/live/):
 * - `GET /api/live/calls` (viewer) → `{ calls: LiveCallSnapshot[] }`, each with its last turns;
 * - `GET /api/live/events` (viewer) → `text/event-stream`: `event: <LiveEvent.type>` + `data: <LiveEvent JSON>`,
 *   a `: ping` comment every 15 s; no replay (`Last-Event-ID` ignored): open it, then load the snapshot, and apply
 *   turns by `seq`;
 * - `POST /api/live/calls/:callSid/hangup` and `…/transfer { to }` (supervisor) → 202 once delivered to the
 *   instance holding the call (it runs it through the call's session: goodbye + hangup, or handoff line + `<Dial>`);
 *   404 when the call is not live; audit-logged (`call.hangup`, `call.transfer`);
 * - `GET /api/live/calls/:callSid/listen` (supervisor, WebSocket; documented only).
 */
export function liveRoutes(d: LiveRouteDeps): ApiRoute<any, any, any>[] {
  const action = async (principal: Principal, callSid: string, cmd: LiveCommand, after: Record<string, unknown>) => {
    const owner = await d.feed.ownerOf(callSid);
    if (!owner || !(await d.commands.send(owner, cmd))) throw new ApiError(404, `no live call ${callSid}`);
    await d.audit.record({ actor: actorOf(principal), action: `call.${cmd.type}`, entityType: 'call', entityId: callSid, after });
    return reply(202, { callSid, accepted: true });
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/live/calls',
      role: 'viewer',
      tag: 'live',
      summary: 'Calls in progress, with their latest turns',
      description: 'Every call live on any server instance, oldest first, with its last 50 turns (oldest first).',
      responses: { 200: { description: 'The live calls.', schema: z.object({ calls: z.array(liveCallSnapshotSchema) }).meta({ id: 'LiveCalls' }) } },
      handler: async () => ({ calls: (await d.feed.snapshot()) satisfies LiveCallSnapshot[] }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/live/events',
      role: 'viewer',
      tag: 'live',
      summary: 'Live call events (Server-Sent Events)',
      description:
        'A `text/event-stream` of every instance\'s live calls: `event:` is the `LiveEvent` type (`call.started`, `call.turn`, `call.event`, `call.ended`) and `data:` its JSON; a `: ping` comment every 15 s. A call whose instance died ends with `call.ended` reason `instance lost` (within ~20 s). No replay: open the stream, then load `GET /api/live/calls`. A client that does not read is disconnected (EventSource reconnects).',
      responses: { 200: { description: 'The event stream (each `data:` is a LiveEvent).', contentType: 'text/event-stream', schema: liveEventSchema } },
      handler: ({ req, res }) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        res.flushHeaders();
        const remove = d.hub.add({ write: (chunk) => void res.write(chunk), get pendingBytes() { return res.writableLength; }, close: () => res.end() });
        req.on('close', remove);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/live/calls/:callSid/hangup',
      role: 'supervisor',
      tag: 'live',
      summary: 'Hang up a live call',
      description: 'The agent says goodbye and the call is hung up (end reason `supervisor`), on whichever instance holds it. 202 once delivered.',
      params: callSidParams,
      responses: { 202: { description: 'Delivered to the instance holding the call.', schema: accepted }, 404: notLive },
      handler: ({ principal, params }) => action(principal, params.callSid, { type: 'hangup', callSid: params.callSid }, { type: 'hangup' }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/live/calls/:callSid/transfer',
      role: 'supervisor',
      tag: 'live',
      summary: 'Transfer a live call to a number',
      description: 'The agent says the handoff line and the call is redirected to `to` (`<Dial>`; stored as the call\'s transfer, reason `supervisor`). 202 once delivered; if Twilio refuses, the agent says no one is available and the call goes on.',
      params: callSidParams,
      body: z.strictObject({ to: phoneNumberInputSchema.meta({ description: 'Where to transfer, international form (E.164 after parsing).' }) }).meta({ id: 'LiveTransfer' }),
      examples: { body: { to: '+14155550123' }, response: { callSid: EXAMPLE_SID, accepted: true } },
      responses: { 202: { description: 'Delivered to the instance holding the call.', schema: accepted }, 404: notLive },
      handler: ({ principal, params, body }) => action(principal, params.callSid, { type: 'transfer', callSid: params.callSid, to: body.to }, { type: 'transfer', to: body.to }),
    }),
    docOnlyRoute({
      method: 'get',
      path: LISTEN_PATH,
      role: 'supervisor',
      tag: 'live',
      summary: 'Listen in (WebSocket)',
      description:
        'WebSocket upgrade (session cookie with an allowed `Origin`, or `Authorization: Bearer`). Binary messages: byte 0 the track — 0 caller audio (20 ms frames, real time), 1 agent audio (as queued for the caller, may run ahead of real time: schedule it after the agent audio already queued), 2 clear (no payload: drop agent audio not yet played, a barge-in) — then raw 8 kHz mu-law. Closed with 1000 `call ended` when the call ends, 1008 when the client does not keep up.',
      params: callSidParams,
      responses: { 101: { description: 'Switching to the WebSocket protocol.' }, 404: notLive },
    }),
  ];
}
