import express, { Router } from 'express';
import type { Logger } from 'pino';
import { whisperTwiml } from '../../../twiml/dial';
import { callSidSchema } from '../../jobs/queues';
import { WHISPER_PATH } from '../../telephony/call-control';
import { requireTwilioSignature } from '../middleware/twilio-signature';

/** Reads a call's stored warm transfer (CallsRepo.control). */
export interface TransferLookup {
  control(callSid: string): Promise<{ transfer: { summary: string } | null } | null>;
}

/** What the human hears when the call has no stored summary (yet). */
export const WHISPER_FALLBACK = 'Transferred call from the AI assistant. Connecting you now.';

/**
 * `POST /twilio/whisper?callSid=<CallSid>`: the TwiML Twilio runs on the human's leg of a warm transfer when they
 * answer (the `<Number url>` of src/telephony/call-control.ts), before the caller is bridged: `<Response><Say>` the
 * transfer summary stored on the call (CallsRepo.setTransfer) `</Say></Response>`. Only the CallSid is in the URL —
 * the summary is PII and never leaves our database except as speech. Verified by `X-Twilio-Signature` over the
 * public URL (query included) and the form body, like every Twilio webhook: a forged or missing signature gets 403.
 * A malformed callSid → 400; an unknown call or one without a stored summary → the generic {@link WHISPER_FALLBACK}
 * (Twilio must still get TwiML, or the human hears an application error).
 */
export function createTwilioWhisperRouter(d: { calls: TransferLookup; authToken: string; publicBaseUrl: string; logger: Logger }): Router {
  const router = Router();
  router.post(WHISPER_PATH, express.urlencoded({ extended: false, limit: '64kb' }), requireTwilioSignature(d.authToken, d.publicBaseUrl), async (req, res) => {
    const sid = callSidSchema.safeParse(req.query.callSid);
    if (!sid.success) {
      res.status(400).type('text/plain').send('Bad whisper request: callSid query parameter missing or malformed');
      return;
    }
    const control = await d.calls.control(sid.data);
    const summary = control?.transfer?.summary?.trim();
    if (!summary) d.logger.warn({ callSid: sid.data }, 'whisper: no stored transfer summary');
    res.type('text/xml').send(whisperTwiml(summary || WHISPER_FALLBACK));
  });
  return router;
}
