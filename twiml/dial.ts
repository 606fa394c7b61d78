import twilio from 'twilio';

/**
 * `<Response><Dial callerId? timeout answerOnBridge><Number url?>target</Number></Dial></Response>` — the warm
 * transfer of a live call to a human (sent with `calls(sid).update({ twiml })`, which replaces the `<Connect><Stream>`).
 * With `whisperUrl`, Twilio fetches that URL when the human answers and plays its TwiML to them only, before the
 * caller is bridged (TwiML `<Number url>`: "a URL for a TwiML document to run on the called party's end").
 * @param target E.164 number of the human agent or queue.
 * @param o.timeoutS seconds to ring before giving up (Twilio default 30).
 * @param o.whisperUrl absolute https URL of the whisper TwiML (it must carry no caller data: ids only).
 */
export function dialTwiml(target: string, o: { callerId?: string; timeoutS?: number; whisperUrl?: string } = {}): string {
  const response = new twilio.twiml.VoiceResponse();
  const dial = response.dial({ answerOnBridge: true, timeout: o.timeoutS ?? 30, ...(o.callerId ? { callerId: o.callerId } : {}) });
  if (o.whisperUrl) dial.number({ url: o.whisperUrl, method: 'POST' }, target);
  else dial.number(target);
  return response.toString();
}

/** `<Response><Say>text</Say></Response>`: the whisper the human hears before a warm transfer is bridged. */
export function whisperTwiml(text: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(text);
  return response.toString();
}
