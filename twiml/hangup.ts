import twilio from 'twilio';

/** `<Response><Say>message</Say><Hangup/></Response>` — used when no agent can take the call. */
export function sayAndHangupTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(message);
  response.hangup();
  return response.toString();
}

/** What a caller hears when the server drains (SIGTERM) and takes no new calls. */
export const BUSY_MESSAGE = 'Sorry, all our agents are busy right now. Please call again later.';

/** `<Response><Say>{@link BUSY_MESSAGE}</Say><Hangup/></Response>` — the answer to a new call while draining. */
export function busyTwiml(): string {
  return sayAndHangupTwiml(BUSY_MESSAGE);
}

/** What a caller hears when the called number has no agent (none bound, or an archived one, with UNCONFIGURED_NUMBER=reject). */
export const NOT_IN_SERVICE_MESSAGE = 'Sorry, this number is not in service.';

/** `<Response><Say>{@link NOT_IN_SERVICE_MESSAGE}</Say><Hangup/></Response>` — the answer to a call no agent takes. */
export function notInServiceTwiml(): string {
  return sayAndHangupTwiml(NOT_IN_SERVICE_MESSAGE);
}
