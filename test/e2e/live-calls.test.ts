import path from 'node:path';
import type { Knex } from 'knex';
import WebSocket from 'ws';
import { waitFor } from '../helpers/async';
import type { Config } from '../../src/config';
import type { AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall, type SimulateCallOptions } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { Accounts } from '../../src/http/auth/accounts';
import { TRACK } from '../../src/live/listen';
import type { LiveCallSnapshot, LiveEvent } from '../../src/live/types';
import type { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { scriptedStack } from '../helpers/scripted-stack';
import { uniqueSid } from '../helpers/db';
import { readSse } from '../helpers/sse';
import { createTestUser, login, TEST_API_KEY, TEST_SESSION_SECRET } from '../helpers/auth-api';
import { checkExamples } from '../helpers/openapi-check';
import { liveRoutes } from '../../src/http/api/live';
import { AuditRepo } from '../../src/db/audit';

const PUBLIC_BASE_URL = 'https://voice.example.com';

/**
 * Live calls across two server instances on one Redis and PostgreSQL (two `startServer`s on one context): a call
 * streamed into instance A (Twilio simulator, real Silero VAD, scripted providers, the Twilio REST double) is seen,
 * controlled and listened to through instance B.
 */
describe('live calls across instances', () => {
  let db: Knex;
  let ctx: AppContext;
  let config: Readonly<Config>;
  let rest: TwilioRestDouble;
  let transcripts: string[];
  let replies: string[];
  let a: RunningServer;
  let b: RunningServer;
  const keys: Record<'supervisor' | 'viewer', string> = { supervisor: '', viewer: '' };
  const recording = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'));

  beforeAll(async () => {
    ({ db, config, ctx, rest, transcripts, replies } = await scriptedStack({ API_KEY: TEST_API_KEY, SESSION_SECRET: TEST_SESSION_SECRET, PUBLIC_BASE_URL }, 'live'));
    a = await startServer(config, ctx);
    b = await startServer(config, ctx);
    await Promise.all([a.liveService.ready(), b.liveService.ready()]);
    const accounts = new Accounts(db);
    for (const role of ['supervisor', 'viewer'] as const) keys[role] = (await accounts.createApiKey({ name: `live-${role}`, role }, { kind: 'bootstrap', id: 'test', label: 'test' })).key;
  }, 120_000);

  afterEach(() => {
    rest.onUpdate = undefined;
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await ctx?.queue.obliterate({ force: true }).catch(() => undefined);
    await ctx?.close();
    await db?.destroy();
  });

  const url = (s: RunningServer, p: string) => `http://127.0.0.1:${s.port}${p}`;
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  const call = (o: Partial<SimulateCallOptions>) =>
    simulateCall({ serverUrl: url(a, ''), publicBaseUrl: config.publicBaseUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid, ...o });
  const events = (s: RunningServer, key = keys.viewer) => readSse(url(s, '/api/live/events'), bearer(key));
  const parsed = (e: { data: string }) => JSON.parse(e.data) as LiveEvent;
  const sidOf = (ev: LiveEvent) => (ev.type === 'call.started' ? ev.call.callSid : ev.callSid);
  const about = (callSid: string, type: LiveEvent['type']) => (e: { event: string; data: string }) => e.event === type && sidOf(parsed(e)) === callSid;
  const snapshot = async (s: RunningServer): Promise<LiveCallSnapshot[]> => ((await (await fetch(url(s, '/api/live/calls'), { headers: bearer(keys.viewer) })).json()) as { calls: LiveCallSnapshot[] }).calls;
  const post = (s: RunningServer, p: string, key: string, body?: unknown) =>
    fetch(url(s, p), { method: 'POST', headers: { ...bearer(key), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  /** Status of a refused WebSocket upgrade (or 101). */
  const upgradeStatus = (p: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url(b, p).replace('http', 'ws'), { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    });

  it('a call on A streams to B: started, every stored turn with its timings, ended; the snapshot mid-call', async () => {
    const sse = await events(b);
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    const callSid = uniqueSid('CA');
    transcripts.push('What are your opening hours?');
    replies.push('We are open nine to five, Monday to Friday.');
    let mid: LiveCallSnapshot[] = [];
    const sim = call({ callSid, callerTurns: [{ audio: recording }], hooks: { onCallerTurn: () => void snapshot(b).then((s) => (mid = s)) } });
    const started = parsed(await sse.waitFor(about(callSid, 'call.started')));
    await sim;
    const ended = parsed(await sse.waitFor(about(callSid, 'call.ended')));
    sse.close();

    expect(started).toMatchObject({ type: 'call.started', call: { callSid, direction: 'inbound', instanceId: a.liveService.instanceId } });
    expect(b.liveService.instanceId).not.toBe(a.liveService.instanceId);
    const turns = sse.events.filter(about(callSid, 'call.turn')).map((e) => (parsed(e) as Extract<LiveEvent, { type: 'call.turn' }>).turn);
    const stored = await db('call_turns').where({ call_sid: callSid }).orderBy('seq');
    expect(turns.map((t) => [t.seq, t.role, t.text])).toEqual(stored.map((r) => [r.seq, r.role, r.text]));
    expect(turns.map((t) => t.text)).toEqual(expect.arrayContaining(['What are your opening hours?', 'We are open nine to five, Monday to Friday.']));
    const reply = turns.find((t) => t.text.startsWith('We are open'))!;
    expect(reply.timings).toEqual(expect.objectContaining({ sttMs: expect.any(Number), llmFirstTokenMs: expect.any(Number), ttsFirstByteMs: expect.any(Number) }));
    expect(ended).toMatchObject({ type: 'call.ended', callSid });
    // The snapshot taken on B while the caller had just spoken: the call, held by A, with the greeting so far.
    const seen = mid.find((c) => c.callSid === callSid);
    expect(seen).toMatchObject({ instanceId: a.liveService.instanceId, agentId: started.type === 'call.started' ? started.call.agentId : '' });
    expect(seen!.turns[0]).toMatchObject({ seq: 1, role: 'agent' });
    // Gone from the snapshot (and its Redis turn list deleted) once ended.
    expect((await snapshot(b)).some((c) => c.callSid === callSid)).toBe(false);
    expect(await ctx.authRedis.exists(`${ctx.authRedisPrefix}:live:turns:${callSid}`)).toBe(0);
  }, 90_000);

  it('hangup sent to B ends the call held by A (goodbye, REST hangup, end reason supervisor, audit); viewer 403, unknown 404', async () => {
    const callSid = uniqueSid('CA');
    const ended = new AbortController();
    rest.onUpdate = (sid, data) => sid === callSid && data.Status === 'completed' && ended.abort();
    const sse = await events(b);
    const sim = call({ callSid, callerTurns: [], endSignal: ended.signal, settleMs: 60_000, replyTimeoutMs: 60_000 });
    await sse.waitFor(about(callSid, 'call.started'));
    expect((await post(b, `/api/live/calls/${callSid}/hangup`, keys.viewer)).status).toBe(403);
    expect((await post(b, `/api/live/calls/CAnotlive${Date.now()}/hangup`, keys.supervisor)).status).toBe(404);
    const res = await post(b, `/api/live/calls/${callSid}/hangup`, keys.supervisor);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ callSid, accepted: true });
    await sim;
    const event = parsed(await sse.waitFor((e) => about(callSid, 'call.event')(e) && (parsed(e) as Extract<LiveEvent, { type: 'call.event' }>).event.type === 'hangup'));
    expect(event).toMatchObject({ event: { payload: { reason: 'supervisor' } } });
    await sse.waitFor(about(callSid, 'call.ended'));
    sse.close();
    expect((await db('calls').where({ call_sid: callSid }).first()).end_reason).toBe('supervisor');
    const audit = await db('audit_log').where({ entity_type: 'call', entity_id: callSid });
    expect(audit.map((r) => [r.action, r.actor_kind, r.actor_label])).toEqual([['call.hangup', 'api_key', 'live-supervisor']]);
    // Ended: nothing left to act on.
    expect((await post(b, `/api/live/calls/${callSid}/hangup`, keys.supervisor)).status).toBe(404);
  }, 90_000);

  it('transfer sent to B redirects the call held by A to the number (<Dial>), stored on the call', async () => {
    const callSid = uniqueSid('CA');
    const ended = new AbortController();
    const updates: Array<Record<string, unknown>> = [];
    rest.onUpdate = (sid, data) => {
      if (sid !== callSid) return;
      updates.push(data);
      ended.abort();
    };
    const sse = await events(b);
    const sim = call({ callSid, callerTurns: [], endSignal: ended.signal, settleMs: 60_000, replyTimeoutMs: 60_000 });
    await sse.waitFor(about(callSid, 'call.started'));
    expect((await post(b, `/api/live/calls/${callSid}/transfer`, keys.supervisor, { to: 'not a number' })).status).toBe(400);
    expect((await post(b, `/api/live/calls/${callSid}/transfer`, keys.supervisor, { to: '+1 415 555 0123' })).status).toBe(202);
    await sim;
    sse.close();
    expect(String(updates[0]?.Twiml)).toContain('+14155550123');
    // The call's rows are written by A's session as it ends, which may finish after the caller's side has.
    const row = await waitFor('the transfer stored on the call', async () => {
      const r = await db('calls').where({ call_sid: callSid }).first();
      return r?.transfer ? r : null;
    });
    expect(row.transfer).toMatchObject({ target: '+14155550123', reason: 'supervisor' });
  }, 90_000);

  it("listen-in on B receives A's audio: every caller frame as sent, and the agent's; closed at the end", async () => {
    const callSid = uniqueSid('CA');
    const sse = await events(b);
    transcripts.push('Hello there.');
    const sim = call({ callSid, callerTurns: [{ audio: recording }] });
    await sse.waitFor(about(callSid, 'call.started'));
    const ws = new WebSocket(url(b, `/api/live/calls/${callSid}/listen`).replace('http', 'ws'), { headers: bearer(keys.supervisor) });
    const frames: Buffer[] = [];
    ws.on('message', (d: Buffer) => frames.push(Buffer.from(d)));
    const closed = new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    await sim;
    expect(await closed).toEqual([1000, 'call ended']);
    sse.close();
    const caller = Buffer.concat(frames.filter((f) => f[0] === TRACK.caller).map((f) => f.subarray(1)));
    const agent = frames.filter((f) => f[0] === TRACK.agent);
    expect(caller.includes(Buffer.from(recording))).toBe(true);
    expect(agent.length).toBeGreaterThan(0);
    expect((await db('audit_log').where({ entity_id: callSid, action: 'call.listen' })).length).toBe(1);
  }, 90_000);

  it('authentication: 401 on SSE and on the listen-in upgrade without credentials; 403 for a viewer or a foreign Origin', async () => {
    expect((await fetch(url(b, '/api/live/events'))).status).toBe(401);
    expect((await fetch(url(b, '/api/live/calls'))).status).toBe(401);
    const p = `/api/live/calls/${uniqueSid('CA')}/listen`;
    expect(await upgradeStatus(p, {})).toBe(401);
    expect(await upgradeStatus(p, bearer('cc_not_a_real_key'))).toBe(401);
    expect(await upgradeStatus(p, bearer(keys.viewer))).toBe(403);
    expect(await upgradeStatus(p, bearer(keys.supervisor))).toBe(404); // authenticated, but no such live call
    const user = await createTestUser(new Accounts(db), 'supervisor');
    const { cookie } = await login(url(b, ''), user.email, user.password, { origin: PUBLIC_BASE_URL });
    expect(cookie).not.toBeNull();
    expect(await upgradeStatus(p, { cookie: cookie!, origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(p, { cookie: cookie! })).toBe(403);
    expect(await upgradeStatus(p, { cookie: cookie!, origin: PUBLIC_BASE_URL })).toBe(404);
  }, 60_000);

  it('documents every live route in the served OpenAPI document (the SSE events typed), with valid examples', async () => {
    const doc = (await (await fetch(url(b, '/api/openapi.json'), { headers: bearer(keys.viewer) })).json()) as { paths: Record<string, Record<string, any>> };
    const ops = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/live/'))
      .flatMap(([p, item]) => Object.entries(item).map(([m, op]) => [`${m.toUpperCase()} ${p}`, op['x-required-role']]));
    expect(ops.sort()).toEqual([
      ['GET /api/live/calls', 'viewer'],
      ['GET /api/live/calls/{callSid}/listen', 'supervisor'],
      ['GET /api/live/events', 'viewer'],
      ['POST /api/live/calls/{callSid}/hangup', 'supervisor'],
      ['POST /api/live/calls/{callSid}/transfer', 'supervisor'],
    ]);
    expect(doc.paths['/api/live/events'].get.responses['200'].content['text/event-stream'].schema).toEqual({ $ref: '#/components/schemas/LiveEvent' });
    expect(checkExamples(liveRoutes({ ...b.liveService, audit: new AuditRepo(db) }))).toEqual([]);
  });
});
