import express, { Router } from 'express';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { requireTwilioSignature } from '../middleware/twilio-signature';
import type { CallsRepo } from '../../db/calls';
import { DispatchRepo } from '../../db/dispatch';
import { callSidSchema } from '../../jobs/queues';
import { decideRetry, type DialOutcome } from '../../campaigns/retry';

export const OUTBOUND_STATUS_PATH = '/twilio/outbound/status';

const TERMINAL = ['completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;
const params = z.object({
  CallSid: callSidSchema,
  CallStatus: z.enum(['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled']),
  SequenceNumber: z.coerce.number().int().nonnegative().optional(),
  AnsweredBy: z.string().max(32).optional(),
  ErrorCode: z.string().max(16).optional(),
});
const query = z.object({ attemptId: z.uuid().optional() });

/**
 * The outcome a terminal CallStatus decides (PROTOCOLS.md "Twilio REST"): `completed` answered by a machine
 * (`AnsweredBy` machine_* from the callback, or the one the AMD callback stored on the attempt) → `voicemail`, `fax`
 * → `fax`, otherwise `completed` (a human conversation); busy / no-answer / failed / canceled as they are.
 */
export function outcomeOf(callStatus: (typeof TERMINAL)[number], answeredBy: string | null | undefined): DialOutcome {
  if (callStatus !== 'completed') return callStatus;
  if (answeredBy?.startsWith('machine_')) return 'voicemail';
  if (answeredBy === 'fax') return 'fax';
  return 'completed';
}

/**
 * `POST /twilio/outbound/status` — status callbacks of calls placed by the dialer (Twilio-signed, form-encoded; the
 * dialer puts `?attemptId=` in the callback URL so a callback that outruns the `calls.create` response still finds its
 * attempt). Out-of-order safe: a report whose SequenceNumber is not newer than the stored one changes nothing, and the
 * first terminal report settles the attempt once. The terminal status decides the outcome ({@link outcomeOf}) and the
 * contact follows the retry policy (src/campaigns/retry.ts), releasing its concurrency slot; a contact already final
 * (e.g. `opted-out` during the call) is never overwritten. A `calls` row for the CallSid (the outbound voice webhook
 * creates one) is kept in sync as `/twilio/status` does. 204 on success, 400 malformed, 403 forged, 404 unknown call.
 */
export function createOutboundStatusRouter(d: {
  db: Knex;
  calls: CallsRepo;
  authToken: string;
  publicBaseUrl: string;
  logger: Logger;
  /** Lease of a call once Twilio has it (ms): ring timeout + longest call + margin. */
  inProgressLeaseMs: number;
  now?: () => Date;
}): Router {
  const router = Router();
  const repo = new DispatchRepo(d.db);
  const now = d.now ?? (() => new Date());
  router.post(OUTBOUND_STATUS_PATH, express.urlencoded({ extended: false, limit: '64kb' }), requireTwilioSignature(d.authToken, d.publicBaseUrl), async (req, res) => {
    const p = params.safeParse(req.body);
    const q = query.safeParse(req.query);
    if (!p.success || !q.success) {
      const issue = (p.success ? q.error! : p.error).issues[0];
      res.status(400).type('text/plain').send(`Bad status callback: ${issue.path.join('.')} ${issue.message}`);
      return;
    }
    const s = p.data;
    const attempt = q.data.attemptId ? await repo.attempt(q.data.attemptId) : await repo.attemptBySid(s.CallSid);
    const known = await d.calls.applyStatus(s.CallSid, s.CallStatus, s.SequenceNumber ?? null, req.body as Record<string, string>);
    if (!attempt || (attempt.callSid && attempt.callSid !== s.CallSid)) {
      if (!known) {
        res.status(404).type('text/plain').send('Unknown call');
        return;
      }
      res.status(204).end();
      return;
    }
    const at = now();
    if ((TERMINAL as readonly string[]).includes(s.CallStatus)) {
      const outcome = outcomeOf(s.CallStatus as (typeof TERMINAL)[number], s.AnsweredBy ?? attempt.answeredBy);
      const r = await repo.settle(
        attempt.id,
        { outcome, status: s.CallStatus, sequence: s.SequenceNumber, callSid: s.CallSid, answeredBy: s.AnsweredBy ?? null, error: s.ErrorCode ? `Twilio error ${s.ErrorCode}` : undefined, now: at },
        decideRetry,
      );
      if (r.settled) d.logger.info({ callSid: s.CallSid, attemptId: attempt.id, outcome, contactState: r.contactState }, 'outbound call ended');
    } else if (!attempt.outcome) {
      if (s.SequenceNumber !== undefined) await repo.applyStatus(attempt.id, s.CallStatus, s.SequenceNumber, s.CallSid, at);
      await repo.markInProgress(attempt.id, s.CallSid, at, d.inProgressLeaseMs, s.CallStatus);
    }
    res.status(204).end();
  });
  return router;
}
