import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '../telephony/signature';
import { simulateCall } from './twilio-simulator';

/** What the callee of a number does. `human` speaks `audio`; `voicemail` plays it and AMD says machine_end_beep. */
export type EmulatedCallee = { kind: 'human' | 'voicemail'; audio: Uint8Array } | { kind: 'busy' | 'no-answer' | 'failed' };

/** A call placed on the emulator and how it ended. */
export interface EmulatedCall {
  sid: string;
  to: string;
  kind: EmulatedCallee['kind'];
  ended: boolean;
}

/** Options of {@link startTwilioEmulator}. */
export interface TwilioEmulatorOptions {
  /** Where our server really listens (webhooks, callbacks and the media stream go there). */
  serverUrl: string;
  /** PUBLIC_BASE_URL the server signs against (callback URLs are rebased from it onto `serverUrl`). */
  publicBaseUrl: string;
  authToken: string;
  /** The callee of each dialed number (unknown numbers: no-answer). */
  callee: (to: string) => EmulatedCallee;
}

/**
 * A small Twilio stand-in over HTTP for `TWILIO_API_BASE_URL` (PROTOCOLS.md "Twilio REST"): `POST
 * /2010-04-01/Accounts/{Sid}/Calls.json` answers 201 with the call resource (`queued`) and then plays Twilio: signed
 * status callbacks (initiated, ringing, answered, completed / busy / no-answer / failed, as subscribed with
 * `StatusCallbackEvent`), the signed voice webhook `Url` and its `<Connect><Stream>` in real time with the callee's
 * audio (simulateCall), and for a voicemail the async AMD callback `machine_end_beep`; `POST …/Calls/{CallSid}.json`
 * with `Status=completed` hangs the call up (the stream ends); `updates` records those requests. Used by `npm run demo`; not a full Twilio.
 */
export async function startTwilioEmulator(o: TwilioEmulatorOptions): Promise<{ url: string; calls: EmulatedCall[]; updates: { sid: string; status: string | null }[]; close(): Promise<void> }> {
  const calls: EmulatedCall[] = [];
  const updates: { sid: string; status: string | null }[] = [];
  const hangups = new Map<string, AbortController>();
  const post = async (publicUrl: string, params: Record<string, string>) => {
    const u = new URL(publicUrl);
    await fetch(o.serverUrl + u.pathname + u.search, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(o.authToken, publicUrl, params) },
      body: new URLSearchParams(params).toString(),
    }).catch(() => undefined);
  };
  const drive = async (accountSid: string, call: EmulatedCall, f: URLSearchParams) => {
    const callee = o.callee(call.to);
    const cb = f.get('StatusCallback');
    const events = f.getAll('StatusCallbackEvent').flatMap((e) => e.split(' '));
    let seq = 0;
    const status = async (event: string, callStatus: string, extra: Record<string, string> = {}) => {
      if (!cb || (event !== 'completed' && !events.includes(event))) return;
      const base = { AccountSid: accountSid, ApiVersion: '2010-04-01', CallSid: call.sid, CallStatus: callStatus, Direction: 'outbound-api', From: f.get('From') ?? '', To: call.to };
      await post(cb, { ...base, SequenceNumber: String(seq++), Timestamp: new Date().toUTCString(), CallbackSource: 'call-progress-events', ...extra });
    };
    await new Promise((r) => setTimeout(r, 50));
    await status('initiated', 'initiated');
    if (callee.kind === 'failed') return void (await status('completed', 'failed', { CallDuration: '0' }));
    await status('ringing', 'ringing');
    if (callee.kind !== 'human' && callee.kind !== 'voicemail') return void (await status('completed', callee.kind, { CallDuration: '0' }));
    const hangup = new AbortController();
    hangups.set(call.sid, hangup);
    const amd = f.get('AsyncAmdStatusCallback');
    const t0 = Date.now();
    await status('answered', 'in-progress');
    await simulateCall({
      serverUrl: o.serverUrl,
      publicBaseUrl: o.publicBaseUrl,
      authToken: o.authToken,
      accountSid,
      callSid: call.sid,
      from: f.get('From') ?? undefined,
      to: call.to,
      outbound: { attemptId: new URL(f.get('Url') ?? 'http://x/').searchParams.get('attemptId') ?? '' },
      finalStatusCallback: false,
      callerTurns: [{ audio: callee.audio }],
      greetingTimeoutMs: 500,
      settleMs: 500,
      replyTimeoutMs: 15_000,
      endSignal: hangup.signal,
      hooks: {
        onCallerTurn: () => {
          if (callee.kind === 'voicemail' && amd) void post(amd, { AccountSid: accountSid, CallSid: call.sid, AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '3000' });
        },
      },
    });
    hangups.delete(call.sid);
    await status('completed', 'completed', { CallDuration: String(Math.ceil((Date.now() - t0) / 1000)), AnsweredBy: callee.kind === 'voicemail' ? 'machine_end_beep' : 'human' });
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const f = new URLSearchParams(body);
      const json = (code: number, v: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      const create = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\.json$/.exec(req.url ?? '');
      const update = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/(CA\w+)\.json$/.exec(req.url ?? '');
      if (create && req.method === 'POST') {
        if (!f.get('To') || !f.get('From') || !f.get('Url')) return json(400, { code: 21201, message: 'To, From and Url are required', status: 400 });
        const call: EmulatedCall = { sid: `CA${randomBytes(16).toString('hex')}`, to: f.get('To')!, kind: o.callee(f.get('To')!).kind, ended: false };
        calls.push(call);
        void drive(create[1], call, f).finally(() => (call.ended = true));
        return json(201, { sid: call.sid, account_sid: create[1], to: call.to, from: f.get('From'), status: 'queued', direction: 'outbound-api', api_version: '2010-04-01' });
      }
      if (update && req.method === 'POST') {
        updates.push({ sid: update[2], status: f.get('Status') });
        if (f.get('Status') === 'completed' || f.get('Status') === 'canceled') hangups.get(update[2])?.abort();
        return json(200, { sid: update[2], account_sid: update[1], status: f.get('Status') ?? 'in-progress' });
      }
      json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    updates,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
