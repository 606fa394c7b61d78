import { z } from 'zod';

/**
 * A call's disposition: how it ended, from the business's point of view. Set by post-call analysis
 * (workers/processors, issue 13 §4) from the call's outcome (Twilio status, AMD, transfer, opt-out, callback tool)
 * and its transcript; sent in `call.completed` and mapped to each CRM's own outcome codes (src/crm/connectors/).
 *
 * - `resolved`: a conversation that ended without a transfer and with the caller's request handled.
 * - `unresolved`: a conversation that ended without a transfer and without the request handled (or unknown).
 * - `transferred`: handed to a person (warm transfer).
 * - `voicemail`: an answering machine took the call (the voicemail message was left, or tried).
 * - `no_answer` | `busy` | `failed`: the call never connected (Twilio `no-answer` | `busy` | `failed`/`canceled`).
 * - `opted_out`: the caller asked not to be called again (DNC).
 * - `callback_booked`: a callback was scheduled during the call.
 * - `wrong_number`: the callee said it is the wrong number.
 * - `abandoned`: the caller hung up before any exchange (no caller turn).
 */
export const DISPOSITIONS = [
  'resolved',
  'unresolved',
  'transferred',
  'voicemail',
  'no_answer',
  'busy',
  'failed',
  'opted_out',
  'callback_booked',
  'wrong_number',
  'abandoned',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];
export const dispositionSchema = z.enum(DISPOSITIONS);
