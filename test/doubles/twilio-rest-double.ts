import twilio from 'twilio';

/** One request the twilio client made, as it would go on the wire. */
export interface TwilioWireRequest {
  method: string;
  uri: string;
  username?: string;
  /** Form fields (twilio-node sends `application/x-www-form-urlencoded`; keys are the REST API's PascalCase names). */
  data: Record<string, unknown>;
}

/**
 * An `httpClient` for the official twilio client (`twilio(sid, token, { httpClient })`) that answers like the Twilio REST
 * API without the network: `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` returns the call resource
 * (200, JSON). Records every request; `failNext(status)` makes the next request fail with a Twilio error body;
 * `onUpdate` lets a test react as Twilio would (e.g. end the media stream once the call is redirected or hung up).
 */
export class TwilioRestDouble {
  readonly requests: TwilioWireRequest[] = [];
  private failures: number[] = [];
  onUpdate?: (callSid: string, data: Record<string, unknown>) => void;

  /** Makes the next request answer `status` with Twilio's error JSON. */
  failNext(status: number): void {
    this.failures.push(status);
  }

  /** The double as twilio's RequestClient type (it implements the one method the client calls). */
  get client(): twilio.RequestClient {
    return this as unknown as twilio.RequestClient;
  }

  async request(opts: { method: string; uri: string; username?: string; data?: Record<string, unknown> }): Promise<{ statusCode: number; body: unknown; headers: Record<string, string> }> {
    const data = { ...(opts.data ?? {}) };
    this.requests.push({ method: opts.method.toUpperCase(), uri: opts.uri, username: opts.username, data });
    const status = this.failures.shift();
    if (status) return { statusCode: status, body: { code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status }, headers: {} };
    const m = /\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/(CA\w+)\.json$/.exec(opts.uri);
    if (!m) return { statusCode: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 }, headers: {} };
    this.onUpdate?.(m[2], data);
    const body = { sid: m[2], account_sid: m[1], status: data.Status === 'completed' ? 'completed' : 'in-progress', api_version: '2010-04-01', uri: `/2010-04-01/Accounts/${m[1]}/Calls/${m[2]}.json` };
    return { statusCode: 200, body, headers: { 'content-type': 'application/json' } };
  }
}
