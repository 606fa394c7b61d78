import twilio from 'twilio';

/**
 * `<Response><Connect><Stream url="wss://…/twilio/media-stream"><Parameter …/></Stream></Connect></Response>`
 * built with twilio's VoiceResponse. Per PROTOCOLS.md the Stream URL is wss:// with no query string; data travels in
 * `<Parameter>`s (name + value < 500 chars each) and arrives in the `start` frame's `customParameters`.
 * @throws Error if the URL is not wss:// or carries a query, or a parameter is too long.
 */
export function connectStreamTwiml(streamUrl: string, parameters: Record<string, string>): string {
  const u = new URL(streamUrl);
  if (u.protocol !== 'wss:' || u.search) throw new Error('Stream url must be wss:// without a query string');
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: streamUrl });
  for (const [name, value] of Object.entries(parameters)) {
    if (name.length + value.length >= 500) throw new Error(`Stream parameter ${name} is too long`);
    stream.parameter({ name, value });
  }
  return response.toString();
}
