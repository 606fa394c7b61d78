import twilio from 'twilio';

/**
 * `<Response><Dial callerId? timeout answerOnBridge><Number>target</Number></Dial></Response>` — the warm transfer of a
 * live call to a human (sent with `calls(sid).update({ twiml })`, which replaces the `<Connect><Stream>`).
 * @param target E.164 number of the human agent or queue.
 * @param o.timeoutS seconds to ring before giving up (Twilio default 30).
 */
export function dialTwiml(target: string, o: { callerId?: string; timeoutS?: number } = {}): string {
  const response = new twilio.twiml.VoiceResponse();
  const dial = response.dial({ answerOnBridge: true, timeout: o.timeoutS ?? 30, ...(o.callerId ? { callerId: o.callerId } : {}) });
  dial.number(target);
  return response.toString();
}
