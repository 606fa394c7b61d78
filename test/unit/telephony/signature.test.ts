import { isValidStreamSignature, isValidWebhookSignature, publicWssUrl, signTwilioRequest } from '../../../src/telephony/signature';
import { connectStreamTwiml } from '../../../twiml/connect-stream';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';

describe('Twilio request signatures', () => {
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';

  it('matches the PROTOCOLS.md test vector', () => {
    expect(signTwilioRequest('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(isValidWebhookSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params)).toBe(true);
  });

  it('rejects missing, forged and replayed-elsewhere signatures', () => {
    expect(isValidWebhookSignature('12345', undefined, url, params)).toBe(false);
    expect(isValidWebhookSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8X', url, params)).toBe(false);
    expect(isValidWebhookSignature('other', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params)).toBe(false);
    expect(isValidWebhookSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, { ...params, Digits: '9' })).toBe(false);
  });

  it('signs media stream upgrades over the wss:// URL, not https://', () => {
    const wss = publicWssUrl('https://voice.example.com', '/twilio/media-stream');
    expect(wss).toBe('wss://voice.example.com/twilio/media-stream');
    const sig = signTwilioRequest('tok', wss, {});
    expect(isValidStreamSignature('tok', sig, wss)).toBe(true);
    expect(isValidStreamSignature('tok', signTwilioRequest('tok', 'https://voice.example.com/twilio/media-stream', {}), wss)).toBe(false);
    expect(isValidStreamSignature('tok', undefined, wss)).toBe(false);
  });
});

describe('connect-stream TwiML', () => {
  it('builds <Connect><Stream> with parameters, and the simulator reads it back', () => {
    const xml = connectStreamTwiml('wss://voice.example.com/twilio/media-stream', { agentId: 'support', callSid: 'CA1&2' });
    expect(xml).toContain('<Connect><Stream url="wss://voice.example.com/twilio/media-stream">');
    expect(parseStreamTwiml(xml)).toEqual({ url: 'wss://voice.example.com/twilio/media-stream', parameters: { agentId: 'support', callSid: 'CA1&2' } });
  });

  it('refuses a non-wss URL or a query string', () => {
    expect(() => connectStreamTwiml('https://x.example.com/s', {})).toThrow(/wss/);
    expect(() => connectStreamTwiml('wss://x.example.com/s?a=1', {})).toThrow(/query/);
  });
});
