import twilio from 'twilio';

/** `<Response><Say>message</Say><Hangup/></Response>` — used when no agent can take the call. */
export function sayAndHangupTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(message);
  response.hangup();
  return response.toString();
}
