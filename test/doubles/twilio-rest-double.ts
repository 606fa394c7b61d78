import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { signTwilioRequest } from '../../src/telephony/signature';

/** One request the twilio client made, as it would go on the wire. */
export interface TwilioWireRequest {
  method: string;
  uri: string;
  username?: string;
  /** Form fields (twilio-node sends `application/x-www-form-urlencoded`; keys are the REST API's PascalCase names). */
  data: Record<string, unknown>;
}

/** A call the double "placed" through `calls.create`, with the parameters Twilio would keep. */
export interface CreatedCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  url: string;
  statusCallback?: string;
  statusCallbackMethod: string;
  statusCallbackEvent: string[];
  machineDetection?: string;
  asyncAmd?: string;
  asyncAmdStatusCallback?: string;
  timeout: number;
}

/** A status callback as Twilio would POST it: the URL, the form params and their X-Twilio-Signature. */
export interface SignedCallback {
  url: string;
  params: Record<string, string>;
  signature: string;
}

/** How a synthesized call ends. `completed` with `answeredBy` machine_* is a voicemail. */
export type CallEnd = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

const twilioError = (status: number, code: number, message: string) => ({
  statusCode: status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  headers: { 'content-type': 'application/json' },
});

/**
 * An `httpClient` for the official twilio client (`twilio(sid, token, { httpClient })`) that answers like the Twilio REST
 * API without the network (PROTOCOLS.md "Twilio REST"):
 * - `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (calls.create) → 201 with the call resource (`status: queued`,
 *   `direction: outbound-api`); a missing `To`/`From` → 400 code 21201/21213, neither `Url` nor `Twiml` → 21205, a
 *   `From` listed in `rejectFrom` → 400 code 21210 (caller ID not verified).
 * - `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` returns the call resource (200, JSON).
 * Records every request; `failNext(status)` makes the next request fail with a Twilio error body; `onUpdate` lets a
 * test react as Twilio would (e.g. end the media stream once the call is redirected or hung up).
 * {@link statusCallbacks} synthesizes the signed status callbacks Twilio would send for a created call.
 */
export class TwilioRestDouble {
  readonly requests: TwilioWireRequest[] = [];
  readonly created: CreatedCall[] = [];
  /** Caller IDs Twilio refuses (error 21210). */
  readonly rejectFrom = new Set<string>();
  private failures: number[] = [];
  onUpdate?: (callSid: string, data: Record<string, unknown>) => void;
  /** Called for each created call (after the 201 is decided), e.g. to drive its callbacks. */
  onCreate?: (call: CreatedCall) => void;

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
    if (status) return twilioError(status, 20500, 'Internal Server Error');
    const create = /\/2010-04-01\/Accounts\/(AC\w+)\/Calls\.json$/.exec(opts.uri);
    if (create && opts.method.toUpperCase() === 'POST') return this.create(create[1], data);
    const m = /\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/(CA\w+)\.json$/.exec(opts.uri);
    if (!m) return { statusCode: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 }, headers: {} };
    this.onUpdate?.(m[2], data);
    const body = { sid: m[2], account_sid: m[1], status: data.Status === 'completed' ? 'completed' : 'in-progress', api_version: '2010-04-01', uri: `/2010-04-01/Accounts/${m[1]}/Calls/${m[2]}.json` };
    return { statusCode: 200, body, headers: { 'content-type': 'application/json' } };
  }

  private create(accountSid: string, d: Record<string, unknown>) {
    const str = (k: string) => (d[k] === undefined ? undefined : String(d[k]));
    if (!str('To')) return twilioError(400, 21201, "No 'To' number is specified");
    if (!str('From')) return twilioError(400, 21213, "No 'From' number is specified");
    if (!str('Url') && !str('Twiml')) return twilioError(400, 21205, 'Url parameter is required.');
    if (this.rejectFrom.has(str('From')!)) return twilioError(400, 21210, `The source phone number provided, ${str('From')}, is not yet verified for your account.`);
    const events = d.StatusCallbackEvent;
    const call: CreatedCall = {
      sid: `CA${randomBytes(16).toString('hex')}`,
      accountSid,
      to: str('To')!,
      from: str('From')!,
      url: str('Url') ?? '',
      statusCallback: str('StatusCallback'),
      statusCallbackMethod: str('StatusCallbackMethod') ?? 'POST',
      // Without StatusCallbackEvent Twilio sends only `completed`.
      statusCallbackEvent: events === undefined ? ['completed'] : (Array.isArray(events) ? events : [events]).map(String),
      machineDetection: str('MachineDetection'),
      asyncAmd: str('AsyncAmd'),
      asyncAmdStatusCallback: str('AsyncAmdStatusCallback'),
      timeout: Number(str('Timeout') ?? 60),
    };
    this.created.push(call);
    this.onCreate?.(call);
    const now = new Date().toUTCString();
    const body = {
      sid: call.sid,
      account_sid: accountSid,
      to: call.to,
      from: call.from,
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      queue_time: '0',
      uri: `/2010-04-01/Accounts/${accountSid}/Calls/${call.sid}.json`,
    };
    return { statusCode: 201, body, headers: { 'content-type': 'application/json' } };
  }

  /**
   * The status callbacks Twilio would send for `call` ending in `end` (only the events it subscribed to, plus the
   * terminal one which is always sent): initiated → ringing → in-progress (`answered`) → completed, or initiated →
   * ringing → busy / no-answer, or failed / canceled. `SequenceNumber` counts from 0 in that order; `order: 'shuffled'`
   * (or a permutation of indexes) returns them out of order, as Twilio may deliver them. Signed with `authToken` over
   * the callback URL.
   */
  statusCallbacks(call: CreatedCall, end: CallEnd, authToken: string, o: { answeredBy?: string; duration?: number; order?: 'in-order' | 'shuffled' | number[] } = {}): SignedCallback[] {
    if (!call.statusCallback) return [];
    const steps: { event: string; status: string }[] = [{ event: 'initiated', status: 'initiated' }];
    if (end !== 'failed') steps.push({ event: 'ringing', status: 'ringing' });
    if (end === 'completed') steps.push({ event: 'answered', status: 'in-progress' });
    steps.push({ event: 'completed', status: end });
    const sent = steps.filter((s) => s.event === 'completed' || call.statusCallbackEvent.includes(s.event));
    const out = sent.map((s, i) => {
      const params: Record<string, string> = {
        AccountSid: call.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: call.sid,
        CallStatus: s.status,
        Direction: 'outbound-api',
        From: call.from,
        To: call.to,
        SequenceNumber: String(i),
        Timestamp: new Date().toUTCString(),
        CallbackSource: 'call-progress-events',
      };
      if (s.event === 'completed') {
        params.CallDuration = String(end === 'completed' ? (o.duration ?? 30) : 0);
        if (o.answeredBy && end === 'completed') params.AnsweredBy = o.answeredBy;
      }
      return { url: call.statusCallback!, params, signature: signTwilioRequest(authToken, call.statusCallback!, params) };
    });
    if (o.order === 'shuffled') {
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    }
    if (Array.isArray(o.order)) return o.order.map((i) => out[i]);
    return out;
  }

  /**
   * POSTs `callbacks` one after another to `origin` (the test server; the path and query come from each callback's
   * URL, the signature stays over the public URL). @returns the HTTP statuses.
   */
  static async deliver(callbacks: SignedCallback[], origin: string): Promise<number[]> {
    const statuses: number[] = [];
    for (const cb of callbacks) {
      const u = new URL(cb.url);
      const res = await fetch(origin + u.pathname + u.search, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': cb.signature },
        body: new URLSearchParams(cb.params).toString(),
      });
      statuses.push(res.status);
    }
    return statuses;
  }
}
