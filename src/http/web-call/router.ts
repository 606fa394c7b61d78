import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { AgentsRepo } from '../../db/agents';
import type { CallsRepo } from '../../db/calls';
import { MediaStreamConnection, type ConnectionOptions, type StreamHandlerFactory } from '../../telephony/media-stream-server';
import type { WebCallRegistry } from '../../telephony/web-calls';
import { safeErrorMessage } from '../../domain/redact';
import { ProtocolError } from '../../telephony/protocol';
import { isSessionAuthenticated } from '../auth/authenticate';
import { originCheckError } from '../auth/csrf';
import type { WebCallSlots } from './slots';
import { hasPendingUpgrade, takeUpgrade } from './upgrade';

/** Path of the browser test call WebSocket. */
export const WEB_CALL_PATH = '/api/web-call';

/** Stored `calls.direction` of a browser test call. */
export const WEB_CALL_DIRECTION = 'web';

const AGENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface WebCallRouterDeps {
  calls: Pick<CallsRepo, 'create'>;
  agents: Pick<AgentsRepo, 'get'>;
  slots: WebCallSlots;
  registry: WebCallRegistry;
  /** The phone calls' session factory (the same engine path). */
  createHandler: StreamHandlerFactory;
  /** Frame, pacing and backpressure limits of the media stream (see `connectionOptions`). */
  limits: ConnectionOptions;
  publicBaseUrl: string;
  logger: Logger;
  /** Largest accepted frame (bytes); default 1 MiB. */
  maxPayload?: number;
  /** True while the server drains: new test calls are refused with 503. */
  draining?: () => boolean;
}

/**
 * `GET /api/web-call?agentId=…` — the browser test call (issue 12 §6), a WebSocket upgrade routed through the API's
 * middleware by `upgradeThroughApp`, so it is authenticated like every API request (session cookie, or
 * `Authorization: Bearer <API key>` for non-browser clients; any role) → 401, and rate limited → 429. Then:
 *
 * - a session-authenticated upgrade must come from an allowed `Origin` (the CSRF rule of `csrfGuard`: a page on
 *   another site could otherwise open the socket with the user's cookie) → 403;
 * - `agentId` must name a live (not archived) agent → 400 / 404;
 * - the caller (user or API key) may hold at most WEB_CALLS_PER_USER test calls at once (Redis, all instances)
 *   → 429; the slot is freed when the socket closes;
 * - a plain GET (no upgrade) → 426; while the server drains → 503.
 *
 * Once upgraded, the socket speaks Twilio Media Streams (src/telephony/protocol.ts) through the same
 * {@link MediaStreamConnection} as Twilio's stream (frame validation, pacing, 1008 closes with a reason): the server
 * first sends `{ event: 'call', callSid }`; the client sends `connected`?, `start` (with that callSid, audio/x-mulaw
 * 8000 Hz mono), 20 ms `media` frames, `mark` echoes and `stop`; it receives `media`, `mark`, `clear` and
 * `transcript` events (see WebCallEvent). At `start` the call row is created (direction `web`, from
 * `web:<userId>` or `web:api_key:<keyId>`, to `agent:<agentId>`) and the phone calls' session factory runs it:
 * turns, events and post-call jobs are stored like any call's.
 */
export function createWebCallRouter(d: WebCallRouterDeps): Router & { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: d.maxPayload ?? 1024 * 1024 });
  const r = Router();
  r.get(WEB_CALL_PATH, async (req, res, next) => {
    try {
      if (!hasPendingUpgrade(req)) {
        res.status(426).set('Upgrade', 'websocket').json({ error: 'open this URL as a WebSocket' });
        return;
      }
      if (d.draining?.()) return void res.status(503).json({ error: 'the server is shutting down: try again in a moment' });
      const principal = req.principal!;
      if (isSessionAuthenticated(req)) {
        const error = originCheckError(req, d.publicBaseUrl);
        if (error !== null) return void res.status(403).json({ error });
      }
      const agentId = typeof req.query.agentId === 'string' ? req.query.agentId : '';
      if (!AGENT_ID.test(agentId)) return void res.status(400).json({ error: 'agentId: give the id of the agent to call (letters, digits, - or _)' });
      const agent = await d.agents.get(agentId);
      if (!agent || agent.archivedAt) return void res.status(404).json({ error: `agent ${agentId} not found` });
      const callSid = `WC${randomBytes(16).toString('hex')}`;
      const owner = principal.kind === 'user' ? principal.id : `${principal.kind}:${principal.id}`;
      const slot = await d.slots.acquire(owner, callSid);
      if (!slot) return void res.status(429).json({ error: 'too many test calls at once: hang up one of yours first' });
      const up = takeUpgrade(req)!;
      const log = d.logger.child({ callSid, webCall: true });
      let upgraded = false;
      up.socket.once('close', () => {
        if (!upgraded) void slot.release();
      });
      wss.handleUpgrade(req, up.socket, up.head, (ws) => {
        upgraded = true;
        d.registry.add(callSid, ws);
        ws.once('close', () => {
          d.registry.remove(callSid);
          void slot.release();
        });
        d.registry.send(callSid, { event: 'call', callSid });
        const from = `web:${owner}`;
        new MediaStreamConnection(
          ws,
          async (start, transport, streamLog) => {
            if (start.start.callSid !== callSid) throw new ProtocolError("start.callSid must be this connection's callSid (the call event)");
            try {
              await d.calls.create({ callSid, agentId: agent.id, direction: WEB_CALL_DIRECTION, from, to: `agent:${agent.id}`, status: 'in-progress' });
              return await d.createHandler(start, transport, streamLog);
            } catch (err) {
              // The close reason reaches the browser: keep internals (SQL, stack) in the log only.
              streamLog.error({ err: safeErrorMessage(err) }, 'web call could not start');
              throw new ProtocolError('the test call could not be started');
            }
          },
          log,
          d.limits,
        );
      });
    } catch (err) {
      next(err);
    }
  });
  return Object.assign(r, {
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.close(1001, 'server shutting down');
        wss.close(() => resolve());
      }),
  });
}
