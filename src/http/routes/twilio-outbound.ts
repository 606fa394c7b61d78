import express, { Router } from 'express';
import { z } from 'zod';
import type { Logger } from 'pino';
import { requireTwilioSignature } from '../middleware/twilio-signature';
import { connectStreamTwiml } from '../../../twiml/connect-stream';
import { busyTwiml, sayAndHangupTwiml } from '../../../twiml/hangup';
import { publicWssUrl } from '../../telephony/signature';
import type { OutboundOutcomesRepo } from '../../db/outbound-outcomes';
import { callSidSchema } from '../../jobs/queues';
import { MEDIA_STREAM_PATH } from './twilio';

/** What the callee hears when the webhook cannot find the call's attempt (never a 500: Twilio would read its error). */
export const UNKNOWN_ATTEMPT_MESSAGE = 'Sorry, this call cannot be completed. Goodbye.';

const voiceParams = z.object({
  CallSid: callSidSchema,
  AccountSid: z.string().max(64).optional(),
  CallStatus: z.string().max(24).default('in-progress'),
});

/** Twilio's async AMD callback (PROTOCOLS.md "Twilio REST": AnsweredBy values of DetectMessageEnd). */
const amdParams = z.object({
  CallSid: callSidSchema,
  AnsweredBy: z.enum(['human', 'machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax', 'unknown']),
  MachineDetectionDuration: z.coerce.number().int().nonnegative().optional(),
});

/** Hands an AMD result to whichever server process holds the call's live session (Redis pub/sub, see AmdBus). */
export type PublishAmd = (m: { callSid: string; answeredBy: string }) => Promise<void>;

/**
 * Twilio webhooks of outbound calls (signed, form-encoded):
 * - `POST /twilio/outbound/voice?attemptId=<uuid>`: the dialed party answered. Loads the attempt, creates the
 *   `calls` row (direction `outbound-api`, campaign and attempt) and sets the attempt's CallSid and `answered_at`,
 *   then answers `<Connect><Stream>` to our media stream with Parameters `agentId`, `callSid`, `attemptId`,
 *   `direction=outbound`. An unknown attempt, or one already linked to another CallSid, gets `<Say>` a short message
 *   `<Hangup/>` (never a 500); while draining,
 *   the busy message.
 * - `POST /twilio/amd`: the async AMD result. Stores `answered_by`, `amd_source = twilio-amd`, `amd_at` on the
 *   attempt and publishes it (the live session, in this process or another, leaves the voicemail or hangs up; a
 *   session that starts later reads the stored value). `machine_start` (interim) is stored but not published.
 *   204; an unknown CallSid 404; a malformed body 400; a forged signature 403.
 */
export function createTwilioOutboundRouter(d: {
  outcomes: OutboundOutcomesRepo;
  authToken: string;
  publicBaseUrl: string;
  logger: Logger;
  publishAmd: PublishAmd;
  draining?: () => boolean;
}): Router {
  const router = Router();
  const signed = [express.urlencoded({ extended: false, limit: '64kb' }), requireTwilioSignature(d.authToken, d.publicBaseUrl)];

  router.post('/twilio/outbound/voice', ...signed, async (req, res) => {
    const p = voiceParams.safeParse(req.body);
    if (!p.success) {
      res.status(400).type('text/plain').send(`Bad voice webhook: ${p.error.issues[0].path.join('.')} ${p.error.issues[0].message}`);
      return;
    }
    const v = p.data;
    const attemptId = typeof req.query.attemptId === 'string' ? req.query.attemptId : '';
    if (d.draining?.()) {
      res.type('text/xml').send(busyTwiml());
      return;
    }
    const found = attemptId ? await d.outcomes.attempt(attemptId) : null;
    // An attempt already answered by another call (a replayed or forwarded webhook) is not taken over.
    const attempt = found && (!found.callSid || found.callSid === v.CallSid) ? found : null;
    if (!attempt) {
      d.logger.warn({ callSid: v.CallSid, attemptId }, 'outbound voice webhook for an unknown attempt: hung up');
      res.type('text/xml').send(sayAndHangupTwiml(UNKNOWN_ATTEMPT_MESSAGE));
      return;
    }
    await d.outcomes.answered(attempt, { callSid: v.CallSid, accountSid: v.AccountSid, status: v.CallStatus });
    d.logger.info({ callSid: v.CallSid, attemptId, agentId: attempt.agentId, campaignId: attempt.campaignId }, 'outbound call answered');
    const parameters = { agentId: attempt.agentId, callSid: v.CallSid, attemptId: attempt.id, direction: 'outbound' };
    res.type('text/xml').send(connectStreamTwiml(publicWssUrl(d.publicBaseUrl, MEDIA_STREAM_PATH), parameters));
  });

  router.post('/twilio/amd', ...signed, async (req, res) => {
    const p = amdParams.safeParse(req.body);
    if (!p.success) {
      res.status(400).type('text/plain').send(`Bad AMD callback: ${p.error.issues[0].path.join('.')} ${p.error.issues[0].message}`);
      return;
    }
    const { CallSid: callSid, AnsweredBy: answeredBy, MachineDetectionDuration: ms } = p.data;
    if (!(await d.outcomes.recordAmd(callSid, answeredBy, 'twilio-amd'))) {
      res.status(404).type('text/plain').send('Unknown CallSid');
      return;
    }
    d.logger.info({ callSid, answeredBy, machineDetectionMs: ms ?? null }, 'AMD result');
    if (answeredBy !== 'machine_start') {
      await d.publishAmd({ callSid, answeredBy }).catch((err) => d.logger.error({ callSid, err: err instanceof Error ? err.message : String(err) }, 'AMD publish failed (the session reads the stored value only at start)'));
    }
    res.status(204).end();
  });

  return router;
}
