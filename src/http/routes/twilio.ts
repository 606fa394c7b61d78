import express, { Router } from 'express';
import { z } from 'zod';
import type { Logger } from 'pino';
import { requireTwilioSignature } from '../middleware/twilio-signature';
import { connectStreamTwiml } from '../../../twiml/connect-stream';
import { busyTwiml, notInServiceTwiml } from '../../../twiml/hangup';
import { publicWssUrl } from '../../telephony/signature';
import type { CallsRepo } from '../../db/calls';
import { callSidSchema } from '../../jobs/queues';

/**
 * Resolves the agent for a called number: the bound (live) agent, else per `unconfigured` the default agent or
 * none (see AgentsRepo.forNumber).
 */
export interface AgentLookup {
  forNumber(e164: string, o?: { unconfigured?: 'default' | 'reject' }): Promise<{ id: string } | null>;
}

export const MEDIA_STREAM_PATH = '/twilio/media-stream';

const voiceParams = z.object({
  CallSid: callSidSchema,
  AccountSid: z.string().max(64).optional(),
  From: z.string().max(64).default(''),
  To: z.string().max(64).default(''),
  Direction: z.string().max(24).default('inbound'),
  CallStatus: z.string().max(24).default('ringing'),
});

const statusParams = z.object({
  CallSid: callSidSchema,
  CallStatus: z.enum(['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled']),
  SequenceNumber: z.coerce.number().int().nonnegative().optional(),
  CallDuration: z.coerce.number().int().nonnegative().optional(),
  AnsweredBy: z.string().optional(),
});

/**
 * Twilio webhooks (signed): `POST /twilio/voice` answers an inbound call with `<Connect><Stream>` to our media
 * stream; `POST /twilio/status` records status callbacks. Form-encoded bodies; a forged signature gets 403 and
 * writes nothing; a malformed body gets 400. While `draining()` is true a new call gets `<Say>` busy message
 * `<Hangup/>` and no call row (status callbacks of live calls are still recorded). A call no agent takes (a number
 * bound to no live agent with `unconfiguredNumber: 'reject'`, or no default agent) gets `<Say>` "not in service"
 * `<Hangup/>` and no call row.
 */
export function createTwilioRouter(d: {
  calls: CallsRepo;
  agents: AgentLookup;
  authToken: string;
  publicBaseUrl: string;
  logger: Logger;
  draining?: () => boolean;
  /** UNCONFIGURED_NUMBER: route calls to numbers without a live agent to the default agent (default) or reject them. */
  unconfiguredNumber?: 'default' | 'reject';
}): Router {
  const router = Router();
  const signed = [express.urlencoded({ extended: false, limit: '64kb' }), requireTwilioSignature(d.authToken, d.publicBaseUrl)];

  router.post('/twilio/voice', ...signed, async (req, res) => {
    const p = voiceParams.safeParse(req.body);
    if (!p.success) {
      res.status(400).type('text/plain').send(`Bad voice webhook: ${p.error.issues[0].path.join('.')} ${p.error.issues[0].message}`);
      return;
    }
    const v = p.data;
    if (d.draining?.()) {
      d.logger.info({ callSid: v.CallSid }, 'draining: new call turned away');
      res.type('text/xml').send(busyTwiml());
      return;
    }
    const unconfigured = d.unconfiguredNumber ?? 'default';
    const agent = await d.agents.forNumber(v.To, { unconfigured });
    if (!agent) {
      d.logger.warn({ callSid: v.CallSid, unconfiguredNumber: unconfigured }, 'no agent for called number: call rejected');
      res.type('text/xml').send(notInServiceTwiml());
      return;
    }
    await d.calls.create({ callSid: v.CallSid, accountSid: v.AccountSid, agentId: agent.id, direction: v.Direction, from: v.From, to: v.To, status: v.CallStatus });
    d.logger.info({ callSid: v.CallSid, agentId: agent.id }, 'inbound call answered');
    res.type('text/xml').send(connectStreamTwiml(publicWssUrl(d.publicBaseUrl, MEDIA_STREAM_PATH), { agentId: agent.id, callSid: v.CallSid }));
  });

  router.post('/twilio/status', ...signed, async (req, res) => {
    const p = statusParams.safeParse(req.body);
    if (!p.success) {
      res.status(400).type('text/plain').send(`Bad status callback: ${p.error.issues[0].path.join('.')} ${p.error.issues[0].message}`);
      return;
    }
    const s = p.data;
    const known = await d.calls.applyStatus(s.CallSid, s.CallStatus, s.SequenceNumber ?? null, req.body as Record<string, string>);
    if (!known) {
      res.status(404).type('text/plain').send('Unknown CallSid');
      return;
    }
    res.status(204).end();
  });

  return router;
}
