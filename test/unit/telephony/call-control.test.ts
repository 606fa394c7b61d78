import { TwilioCallControl } from '../../../src/telephony/call-control';
import { ProviderError } from '../../../src/providers/errors';
import { TwilioRestDouble } from '../../doubles/twilio-rest-double';

const ACCOUNT = 'AC00000000000000000000000000000001';
const CALL = 'CA0123456789abcdef0123456789abcdef';

describe('TwilioCallControl (real twilio client, httpClient double)', () => {
  it('transfer: POST Calls/{CallSid}.json with Twiml <Dial><Number>', async () => {
    const rest = new TwilioRestDouble();
    await new TwilioCallControl({ accountSid: ACCOUNT, authToken: 'secret-token', httpClient: rest.client }).transfer(CALL, '+15005550006');
    expect(rest.requests).toHaveLength(1);
    const r = rest.requests[0];
    expect(r.method).toBe('POST');
    expect(r.uri).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`);
    expect(r.username).toBe(ACCOUNT);
    expect(r.data).toEqual({ Twiml: expect.any(String) });
    expect(r.data.Twiml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Dial answerOnBridge="true" timeout="30"><Number>\+15005550006<\/Number><\/Dial><\/Response>$/);
  });

  it('transfer with publicBaseUrl: <Number url=…/twilio/whisper?callSid=…> (only the CallSid, never the summary)', async () => {
    const rest = new TwilioRestDouble();
    await new TwilioCallControl({ accountSid: ACCOUNT, authToken: 'secret-token', httpClient: rest.client, publicBaseUrl: 'https://voice.example.com/' }).transfer(CALL, '+15005550006');
    expect(rest.requests[0].data.Twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true" timeout="30"><Number url="https://voice.example.com/twilio/whisper?callSid=${CALL}" method="POST">+15005550006</Number></Dial></Response>`,
    );
  });

  it('hangup: Status=completed', async () => {
    const rest = new TwilioRestDouble();
    await new TwilioCallControl({ accountSid: ACCOUNT, authToken: 'secret-token', httpClient: rest.client }).hangup(CALL);
    expect(rest.requests[0].data).toEqual({ Status: 'completed' });
  });

  it('a 500 becomes a retryable ProviderError without the auth token in the message', async () => {
    const rest = new TwilioRestDouble();
    rest.failNext(500);
    const err = await new TwilioCallControl({ accountSid: ACCOUNT, authToken: 'secret-token', httpClient: rest.client }).hangup(CALL).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ retryable: true, status: 500 });
    expect(String(err.message)).not.toContain('secret-token');
  });
});
