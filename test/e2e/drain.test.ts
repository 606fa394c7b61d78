import path from 'node:path';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import { uniqueSid } from '../helpers/db';
import type { AppContext } from '../../src/context';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server';
import { simulateCall, type SimulateCallOptions } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { signTwilioRequest } from '../../src/telephony/signature';
import { BUSY_MESSAGE } from '../../twiml/hangup';
import { CALL_CONTROL_PHRASES } from '../../src/engine/call-control-phrases';
import type { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { scriptedStack } from '../helpers/scripted-stack';

const DRAIN_TIMEOUT_MS = 2_500;

const LONG_REPLY =
  'Our refund policy is simple. You can return any item within thirty days of delivery. ' +
  'Refunds go back to the original payment method. They usually arrive within five business days. ' +
  'If the item arrived damaged, we also pay for the return shipping. Is there anything else I can help you with today?';

/**
 * Graceful drain on the real server (what SIGTERM does through `RunningServer.drain()`): real Silero VAD on a real
 * recording streamed by the Twilio simulator, scripted fake providers, and the real twilio REST client with an
 * httpClient double. Each test starts its own server on one shared context (a drained server stays draining).
 */
describe('graceful drain', () => {
  let db: Knex;
  let ctx: AppContext;
  let config: Readonly<Config>;
  let server: RunningServer | null = null;
  let rest: TwilioRestDouble;
  let transcripts: string[];
  let replies: string[];
  const recording = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'));

  beforeAll(async () => {
    ({ db, config, ctx, rest, transcripts, replies } = await scriptedStack({ DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) }, 'drain'));
  }, 120_000);

  afterEach(async () => {
    rest.onUpdate = undefined;
    await server?.close();
    server = null;
  });

  afterAll(async () => {
    await ctx?.queue.obliterate({ force: true }).catch(() => undefined);
    await ctx?.close();
    await db?.destroy();
  });

  const start = async (o: StartServerOptions = {}) => {
    server = await startServer(config, ctx, o);
    return server;
  };
  const call = (s: RunningServer, o: Partial<SimulateCallOptions>) =>
    simulateCall({
      serverUrl: `http://127.0.0.1:${s.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      ...o,
    });
  const voiceWebhook = async (s: RunningServer, callSid: string) => {
    const params = { AccountSid: config.twilio.accountSid, CallSid: callSid, From: '+14155550100', To: '+18005550199', Direction: 'inbound', CallStatus: 'ringing' };
    const res = await fetch(`http://127.0.0.1:${s.port}/twilio/voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(config.twilio.authToken, config.publicBaseUrl + '/twilio/voice', params) },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };
  const readyz = async (s: RunningServer) => {
    const res = await fetch(`http://127.0.0.1:${s.port}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  const turnsOf = (callSid: string) => db('call_turns').where({ call_sid: callSid }).orderBy('seq');
  const drainingGauge = async () => (await ctx.metrics.draining.get()).values[0]?.value ?? 0;

  it('live call goes on, new calls get the busy message, then goodbye + hang-up at the drain timeout; rows written', async () => {
    const s = await start({ drainGraceMs: 8_000 });
    transcripts.push('What is your refund policy?');
    replies.push(LONG_REPLY);
    const ended = new AbortController();
    let drain: Promise<void> | null = null;
    let drainStartedAt = 0;
    let drainResolved = false;
    let hangupAt = 0;
    let drainResolvedAtHangup: boolean | null = null;
    let onDrain!: () => void;
    const drainStarted = new Promise<void>((r) => (onDrain = r));
    rest.onUpdate = (_sid, data) => {
      if (data.Status !== 'completed') return;
      hangupAt = performance.now();
      drainResolvedAtHangup = drainResolved;
      ended.abort(); // Twilio ends the media stream once the call is hung up
    };
    const before = rest.requests.length;
    const sim = call(s, {
      callerTurns: [{ audio: recording }],
      endSignal: ended.signal,
      // The caller stays on the line until Twilio ends the stream (the REST hang-up), however quiet the agent is.
      settleMs: 60_000,
      replyTimeoutMs: 60_000,
      hooks: {
        // The caller has just finished their question: SIGTERM arrives now.
        onCallerTurn: () => {
          drainStartedAt = performance.now();
          drain = s.drain();
          drain.then(() => (drainResolved = true));
          onDrain();
        },
      },
    });
    await drainStarted;
    // At once: not ready, gauge up, new calls turned away (signed webhook, busy message, <Hangup/>, no row).
    expect(s.draining).toBe(true);
    expect(await readyz(s)).toEqual({ status: 503, body: { status: 'draining' } });
    expect(await drainingGauge()).toBe(1);
    const newSid = uniqueSid('CA');
    const busy = await voiceWebhook(s, newSid);
    expect(busy.status).toBe(200);
    expect(busy.type).toMatch(/xml/);
    expect(busy.body).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>${BUSY_MESSAGE}</Say><Hangup/></Response>`);
    expect(await db('calls').where({ call_sid: newSid }).first()).toBeUndefined();

    const result = await sim;
    await drain!;
    // The live call got its reply after the drain started…
    expect(result.turns[0].replyLatencyMs).not.toBeNull();
    // …and was hung up over REST only once the drain timeout had passed; drain waited for Twilio's stop.
    const wire = rest.requests.slice(before);
    expect(wire.map((r) => [r.uri.endsWith(`/Calls/${result.callSid}.json`), r.data])).toEqual([[true, { Status: 'completed' }]]);
    expect(hangupAt - drainStartedAt).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 50);
    expect(drainResolvedAtHangup).toBe(false);

    const turns = await turnsOf(result.callSid);
    const row = await db('calls').where({ call_sid: result.callSid }).first();
    expect(turns.map((t) => [t.role, t.text])).toEqual([
      ['agent', expect.stringMatching(/thanks for calling/i)],
      ['caller', 'What is your refund policy?'],
      ['agent', expect.any(String)],
      // The goodbye line in the call's language (the engine's language id decides which).
      ['agent', CALL_CONTROL_PHRASES.goodbye[turns[3].language]],
    ]);
    // The reply was cut by the drain's goodbye (the caller heard its start).
    expect(turns[2].interrupted).toBe(true);
    expect(LONG_REPLY.startsWith(turns[2].text)).toBe(true);
    expect(turns[2].text.length).toBeGreaterThan(0);
    expect(row.end_reason).toBe('drain');
    expect(row.ended_at).not.toBeNull();
    expect(row.post_call_enqueued_at).not.toBeNull();
    expect(s.live.size).toBe(0);
  }, 90_000);

  it('a call that ends during the drain ends it early: no hang-up, its own end reason', async () => {
    const s = await start({ drainGraceMs: 8_000 });
    transcripts.push('That is all, thanks.');
    let drain: Promise<void> | null = null;
    const before = rest.requests.length;
    // The caller hangs up right after speaking (the simulator sends `stop` once the recording is sent).
    const result = await call(s, { callerTurns: [{ audio: recording }], afterLastTurn: 'hang_up', hooks: { onCallerTurn: () => (drain = s.drain()) } });
    let timedOut = false;
    const timer = setTimeout(() => (timedOut = true), DRAIN_TIMEOUT_MS);
    await drain!;
    clearTimeout(timer);
    expect(timedOut).toBe(false);
    expect(rest.requests.slice(before)).toEqual([]);
    const row = await db('calls').where({ call_sid: result.callSid }).first();
    expect(row.end_reason).toBeNull();
    expect(row.post_call_enqueued_at).not.toBeNull();
    expect(s.live.size).toBe(0);
  }, 90_000);

  it('a call still live after the grace (Twilio never sent stop) is ended: rows written, end reason drain', async () => {
    const s = await start({ drainGraceMs: 4_000 });
    transcripts.push('What is your refund policy?');
    replies.push(LONG_REPLY);
    let drain: Promise<void> | null = null;
    const ended = new AbortController();
    let hungUp = false;
    rest.onUpdate = () => (hungUp = true); // but no `stop` follows
    const sim = call(s, { callerTurns: [{ audio: recording }], endSignal: ended.signal, settleMs: 60_000, replyTimeoutMs: 60_000, hooks: { onCallerTurn: () => (drain = s.drain()) } });
    // Wait for the drain to start (the simulator calls the hook once the question was sent).
    while (!drain) await new Promise((r) => setTimeout(r, 20));
    await drain;
    expect(hungUp).toBe(true);
    const live = [...s.live.keys()];
    ended.abort(); // let the simulator finish
    const result = await sim;
    // drain() resolved with the session ended (its entry leaves once the socket closes, in close()).
    expect(live).toEqual([result.callSid]);
    const row = await db('calls').where({ call_sid: result.callSid }).first();
    expect(row.end_reason).toBe('drain');
    expect(row.ended_at).not.toBeNull();
    expect(row.post_call_enqueued_at).not.toBeNull();
    const events = await db('call_events').where({ call_sid: result.callSid, type: 'stream.ended' });
    expect(events.map((e) => e.data?.reason ?? e.payload?.reason)).toContain('server shutdown');
  }, 90_000);
});
