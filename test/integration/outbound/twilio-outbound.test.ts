import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import pino from 'pino';
import { listen } from '../../helpers/http';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { cleanupSessions, setup } from '../../helpers/session-harness';
import { createApp } from '../../../src/http/app';
import { createTwilioOutboundRouter, UNKNOWN_ATTEMPT_MESSAGE } from '../../../src/http/routes/twilio-outbound';
import { AgentsRepo } from '../../../src/db/agents';
import { CallsRepo } from '../../../src/db/calls';
import { DncRepo } from '../../../src/db/dnc';
import { OutboundOutcomesRepo } from '../../../src/db/outbound-outcomes';
import { DEMO_AGENT } from '../../../src/db/seed';
import { AmdBus } from '../../../src/jobs/amd-bus';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';
import { outboundSetup } from '../../../src/outbound-session';
import { DispatchRepo } from '../../../src/db/dispatch';
import { decideRetry } from '../../../src/campaigns/retry';
import type { CallSession } from '../../../src/engine/call-session';
import { createSessionFactory } from '../../../src/session-factory';
import { toolSpecsFor } from '../../../src/tools/builtin';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import type { ToolSpec } from '../../../src/providers/types';
import { ScriptedDetector, recordingControl } from '../../helpers/session-harness';
import { FakeTwilioPlayer } from '../../helpers/twilio-player';

const TOKEN = 'outbound-test-token';
const PUBLIC = 'https://voice.example.com';
const silent = pino({ level: 'silent' });

/** Polls `cond` (real timers: HTTP, Postgres and Redis are real) until it holds; fails after `ms`. */
async function eventually<T>(cond: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Its own agent: the shared test database's demo agent (the default for inbound calls) must stay as seeded. */
const AGENT_ID = 'outbound-webhook-test-agent';

describe('outbound Twilio webhooks (signed) and AMD across two server processes', () => {
  let db: Knex;
  let outcomes: OutboundOutcomesRepo;
  const prefix = `outcall-test-${randomUUID()}`;
  const redises: Redis[] = [];
  const apps: Array<{ base: string; close: () => Promise<void>; live: Map<string, CallSession>; bus: AmdBus }> = [];
  let campaignId: string;

  const newRedis = () => {
    const r = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    redises.push(r);
    return r;
  };

  /** One "server process": the outbound router, its own AMD subscription, its own live-call map. */
  async function serverProcess() {
    const live = new Map<string, CallSession>();
    const bus = AmdBus.start({ publisher: newRedis(), subscriber: newRedis(), prefix, deliver: (m) => live.get(m.callSid)?.onAnsweredBy(m.answeredBy), logger: silent });
    const app = createApp({ logger: silent, routers: [createTwilioOutboundRouter({ outcomes, authToken: TOKEN, publicBaseUrl: PUBLIC, logger: silent, publishAmd: (m) => bus.publish(m) })] });
    const server = await listen(app);
    await bus.ready();
    const proc = { ...server, live, bus };
    apps.push(proc);
    return proc;
  }

  beforeAll(async () => {
    db = await setupTestDb();
    outcomes = new OutboundOutcomesRepo(db);
    await new AgentsRepo(db).upsert({ ...DEMO_AGENT, id: AGENT_ID, isDefault: false, firstMessage: 'Hi {{first_name}}, this is Acme about order {{order_id}}.', firstMessages: { es: 'Hola {{first_name}}, le llamamos de Acme.' }, languages: ['en', 'es'] });
    campaignId = `cmp_${randomUUID().slice(0, 8)}`;
    await db('campaigns').insert({
      id: campaignId,
      name: 'Renewals',
      agent_id: AGENT_ID,
      caller_ids: JSON.stringify([{ number: '+14155550100', dailyCap: null }]),
      window: JSON.stringify({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '20:00', blackoutDates: [] }),
      max_concurrent: 3,
      retry: JSON.stringify({ maxAttempts: 3, delaysSeconds: { busy: [], noAnswer: [], failed: [], voicemail: [] } }),
      voicemail_message: 'Hi {{first_name}}, Acme here about order {{order_id}}. Please call us back.',
    });
  });

  afterAll(async () => {
    for (const a of apps) {
      await a.bus.close();
      await a.close();
    }
    for (const r of redises) r.disconnect();
    await db.destroy();
  });

  afterEach(() => cleanupSessions());

  /** A contact and its first attempt; returns the attempt id and contact id. */
  async function attempt(o: { language?: string | null } = {}) {
    const phone = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const [c] = await db('campaign_contacts')
      .insert({ campaign_id: campaignId, phone, name: 'Ana Ruiz', timezones: ['America/New_York'], language: o.language ?? null, variables: JSON.stringify({ first_name: 'Ana', order_id: 'A-17' }), state: 'in-progress', attempts: 1 })
      .onConflict(['campaign_id', 'phone'])
      .merge()
      .returning('id');
    const id = randomUUID();
    await db('call_attempts').insert({ id, campaign_id: campaignId, contact_id: c.id, attempt_no: 1, to_number: phone, from_number: '+14155550100', agent_id: AGENT_ID, variables: JSON.stringify({}) });
    return { id, contactId: String(c.id), phone };
  }

  const post = (base: string, path: string, params: Record<string, string>, signature?: string) =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature ?? signTwilioRequest(TOKEN, PUBLIC + path, params) },
      body: new URLSearchParams(params).toString(),
    });

  async function answer(base: string, attemptId: string, callSid = uniqueSid('CA')) {
    const res = await post(base, `/twilio/outbound/voice?attemptId=${attemptId}`, { AccountSid: 'AC1', CallSid: callSid, CallStatus: 'in-progress', Direction: 'outbound-api' });
    return { res, callSid };
  }

  it('voice webhook: <Connect><Stream> with the attempt parameters; the calls row and the attempt are linked', async () => {
    const [a] = await Promise.all([serverProcess(), serverProcess()]);
    const at = await attempt();
    const { res, callSid } = await answer(a.base, at.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const stream = parseStreamTwiml(await res.text());
    expect(stream.url).toBe('wss://voice.example.com/twilio/media-stream');
    expect(stream.parameters).toEqual({ agentId: AGENT_ID, callSid, attemptId: at.id, direction: 'outbound' });
    expect(await new CallsRepo(db).get(callSid)).toMatchObject({ direction: 'outbound-api', agentId: AGENT_ID, to: at.phone, from: '+14155550100' });
    expect(await db('calls').where({ call_sid: callSid }).first('campaign_id', 'attempt_id')).toEqual({ campaign_id: campaignId, attempt_id: at.id });
    const row = await db('call_attempts').where({ id: at.id }).first();
    expect(row.call_sid).toBe(callSid);
    expect(row.answered_at).toBeInstanceOf(Date);
    // Twilio retries the webhook: same answer; another CallSid cannot take the attempt over.
    expect(parseStreamTwiml(await (await answer(a.base, at.id, callSid)).res.text()).parameters.attemptId).toBe(at.id);
    const other = await answer(a.base, at.id);
    expect(await other.res.text()).toContain('<Hangup/>');
    expect((await db('call_attempts').where({ id: at.id }).first()).call_sid).toBe(callSid);
  });

  it('voice webhook: an unknown or malformed attempt gets a short message and <Hangup/>, never a 500; forged → 403', async () => {
    const [a] = apps;
    for (const id of [randomUUID(), 'not-a-uuid', '']) {
      const res = await post(a.base, `/twilio/outbound/voice?attemptId=${id}`, { CallSid: uniqueSid('CA') });
      expect(res.status).toBe(200);
      const xml = await res.text();
      expect(xml).toContain(`<Say>${UNKNOWN_ATTEMPT_MESSAGE}</Say>`);
      expect(xml).toContain('<Hangup/>');
    }
    const at = await attempt();
    const params = { CallSid: uniqueSid('CA') };
    const forged = await post(a.base, `/twilio/outbound/voice?attemptId=${at.id}`, params, signTwilioRequest(TOKEN, `${PUBLIC}/twilio/outbound/voice?attemptId=${randomUUID()}`, params));
    expect(forged.status).toBe(403);
    expect((await db('call_attempts').where({ id: at.id }).first()).call_sid).toBeNull();
  });

  it("the session's agent has the contact's variables, language and the campaign's voicemail message filled in", async () => {
    const at = await attempt({ language: 'es' });
    const { callSid } = await answer(apps[0].base, at.id);
    const call = (await new CallsRepo(db).get(callSid))!;
    const agent = (await new AgentsRepo(db).get(AGENT_ID))!;
    const s = await outboundSetup({ repo: outcomes, greetingWaitMs: 2_500 }, call, agent, { direction: 'outbound', attemptId: at.id });
    expect(s.agent).toMatchObject({ defaultLanguage: 'es', firstMessage: 'Hi Ana, this is Acme about order A-17.', firstMessages: { es: 'Hola Ana, le llamamos de Acme.' } });
    expect(s.options).toEqual({ greetingWaitMs: 2_500, voicemailMessage: 'Hi Ana, Acme here about order A-17. Please call us back.', answeredBy: null, timeZone: 'America/New_York' });
    await expect(outboundSetup({ repo: outcomes, greetingWaitMs: 1 }, call, agent, { direction: 'outbound', attemptId: randomUUID() })).rejects.toThrow(/unknown attempt/);
  });

  /** A live outbound session (fake providers, fake Twilio player) whose outcomes go to the real database. */
  async function liveSession(callSid: string) {
    const call = (await new CallsRepo(db).get(callSid))!;
    const agent = (await new AgentsRepo(db).get(AGENT_ID))!;
    const attemptId = (await db('calls').where({ call_sid: callSid }).first('attempt_id')).attempt_id;
    const s = await outboundSetup({ repo: outcomes, greetingWaitMs: 60_000 }, call, agent, { direction: 'outbound', attemptId });
    const h = setup({ callSid, agent: s.agent, outbound: s.options, outcomes: s.outcomes });
    h.session.start();
    return h;
  }

  it.each([
    ['in the process that received the callback', 0],
    ['in another process (Redis pub/sub)', 1],
  ])('AMD machine_end_beep → the live session %s leaves the voicemail, played to the end, and hangs up', async (_name, holder) => {
    const [a] = apps;
    const at = await attempt();
    const { callSid } = await answer(a.base, at.id);
    const h = await liveSession(callSid);
    apps[holder].live.set(callSid, h.session);
    const res = await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '4200' });
    expect(res.status).toBe(204);
    const row = await eventually(async () => {
      const r = await db('call_attempts').where({ id: at.id }).first();
      return r.voicemail_played !== null && r;
    });
    expect(row).toMatchObject({ answered_by: 'machine_end_beep', amd_source: 'twilio-amd', voicemail_played: true });
    expect(row.amd_at).toBeInstanceOf(Date);
    await eventually(() => h.actions.some((x) => x.type === 'hangup'));
    expect(h.mem.turns.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['Hi Ana, Acme here about order A-17. Please call us back.']);
    expect((await db('campaign_contacts').where({ id: at.contactId }).first()).last_outcome).toBe('voicemail');
    expect((await new CallsRepo(db).events(callSid)).map((e) => e.type)).toContain('voicemail');
    apps[holder].live.delete(callSid);
    await h.session.end('stop');
  });

  it('AMD: human/machine_start change nothing live; an unknown CallSid is 404; a bad AnsweredBy 400; forged 403', async () => {
    const [a, b] = apps;
    const at = await attempt();
    const { callSid } = await answer(a.base, at.id);
    const h = await liveSession(callSid);
    b.live.set(callSid, h.session);
    expect((await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'machine_start' })).status).toBe(204);
    expect((await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'human' })).status).toBe(204);
    expect((await db('call_attempts').where({ id: at.id }).first()).answered_by).toBe('human');
    // Messages on one channel arrive in order: once the later `fax` acted, `human` had been delivered and did nothing.
    expect((await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'fax' })).status).toBe(204);
    await eventually(() => h.actions.length > 0);
    expect(h.actions).toEqual([{ type: 'hangup', callSid }]);
    expect(h.mem.endReasons).toEqual(['fax']);
    expect(h.mem.turns).toEqual([]);
    expect((await post(a.base, '/twilio/amd', { CallSid: 'CAnope', AnsweredBy: 'human' })).status).toBe(404);
    expect((await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'robot' })).status).toBe(400);
    expect((await post(a.base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'fax' }, 'forged')).status).toBe(403);
    b.live.delete(callSid);
    await h.session.end('stop');
  });

  it('an AMD result that arrived before the stream is read when the session is set up', async () => {
    const at = await attempt();
    const { callSid } = await answer(apps[0].base, at.id);
    expect((await post(apps[0].base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'fax' })).status).toBe(204);
    const call = (await new CallsRepo(db).get(callSid))!;
    const s = await outboundSetup({ repo: outcomes, greetingWaitMs: 1 }, call, (await new AgentsRepo(db).get(AGENT_ID))!, { direction: 'outbound', attemptId: at.id });
    expect(s.options?.answeredBy).toBe('fax');
  });

  it('opt-out: DNC entry with the call as provenance, no next attempt, opt_out event; the live call keeps its slot until it settles, then opted-out', async () => {
    const at = await attempt();
    const { callSid } = await answer(apps[0].base, at.id);
    await db('campaign_contacts').where({ id: at.contactId }).update({ next_attempt_at: new Date(Date.now() + 3_600_000) });
    const call = (await new CallsRepo(db).get(callSid))!;
    const s = await outboundSetup({ repo: outcomes, greetingWaitMs: 1 }, call, (await new AgentsRepo(db).get(AGENT_ID))!, { direction: 'outbound', attemptId: at.id });
    await s.outcomes.optOut({ utterance: 'Please stop calling me.', via: 'phrase' });
    await s.outcomes.optOut({ utterance: 'I said stop calling me', via: 'phrase' }); // a second one keeps the first provenance
    const entry = await new DncRepo(db).get(at.phone);
    expect(entry).toMatchObject({ number: at.phone, source: 'opt_out', provenance: { callSid, utterance: 'Please stop calling me.', campaignId, attemptId: at.id } });
    // The call goes on (the agent confirms): the contact still holds its concurrency slot …
    expect(await db('campaign_contacts').where({ id: at.contactId }).first('state', 'next_attempt_at', 'last_outcome')).toEqual({ state: 'in-progress', next_attempt_at: null, last_outcome: 'opted-out' });
    // … until Twilio reports the call ended: whatever its outcome, the contact is opted-out and released.
    expect(await new DispatchRepo(db).settle(at.id, { outcome: 'completed', status: 'completed', now: new Date() }, decideRetry)).toEqual({ settled: true, contactState: 'opted-out' });
    expect(await db('campaign_contacts').where({ id: at.contactId }).first('state', 'next_attempt_at', 'lease_owner')).toEqual({ state: 'opted-out', next_attempt_at: null, lease_owner: null });
    const events = (await new CallsRepo(db).events(callSid)).filter((e) => e.type === 'opt_out');
    expect(events[0].payload).toMatchObject({ number: at.phone, via: 'phrase', campaignId, attemptId: at.id });
  });

  it('opt-out on an inbound call: the caller number joins the DNC list (no contact)', async () => {
    const callSid = uniqueSid('CA');
    const from = `+1212555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    await new CallsRepo(db).create({ callSid, agentId: AGENT_ID, direction: 'inbound', from, to: '+18005550199', status: 'in-progress' });
    const s = await outboundSetup({ repo: outcomes, greetingWaitMs: 1 }, (await new CallsRepo(db).get(callSid))!, (await new AgentsRepo(db).get(AGENT_ID))!, { agentId: AGENT_ID, callSid });
    expect(s.options).toBeUndefined();
    await s.outcomes.optOut({ utterance: null, via: 'dtmf' });
    expect(await new DncRepo(db).get(from)).toMatchObject({ source: 'opt_out', provenance: { callSid } });
    expect(await s.outcomes.callback(new Date(Date.now() + 86_400_000), 'tomorrow')).toBe(false);
  });

  it('schedule_callback: the contact is retry-scheduled at that instant (not after an opt-out)', async () => {
    const at = await attempt();
    const { callSid } = await answer(apps[0].base, at.id);
    const when = new Date('2030-01-03T20:00:00Z');
    const before = (await db('campaign_contacts').where({ id: at.contactId }).first('state')).state;
    expect(await outcomes.scheduleCallback(callSid, when, 'tomorrow at three')).toBe(true);
    // The call goes on: the contact keeps its state (and slot) until the attempt settles (dispatch.test covers that).
    expect(await db('campaign_contacts').where({ id: at.contactId }).first('state', 'next_attempt_at', 'last_outcome')).toEqual({ state: before, next_attempt_at: when, last_outcome: 'callback' });
    expect(await db('call_events').where({ call_sid: callSid, type: 'callback' }).orderBy('id', 'desc').first('payload')).toEqual({ payload: { at: when.toISOString(), said: 'tomorrow at three', booked: true } });
    await db('campaign_contacts').where({ id: at.contactId }).update({ state: 'opted-out' });
    expect(await outcomes.scheduleCallback(callSid, when, 'again')).toBe(false);
  });

  it('session factory: an outbound stream gets the filled agent, the outbound tools, and acts on an AMD stored before it', async () => {
    const at = await attempt();
    const { callSid } = await answer(apps[0].base, at.id);
    expect((await post(apps[0].base, '/twilio/amd', { CallSid: callSid, AnsweredBy: 'machine_end_silence' })).status).toBe(204);
    const live = new Map<string, CallSession>();
    const ctl = recordingControl();
    const offered: ToolSpec[][] = [];
    const ended: string[] = [];
    const factory = createSessionFactory({
      calls: new CallsRepo(db),
      agents: new AgentsRepo(db),
      stt: new FakeStt({ transcripts: [] }),
      tts: new FakeTts({ firstByteMs: 1 }),
      llm: new FakeLlm({ replies: [] }),
      retriever: { retrieve: async () => [] },
      createTurnDetector: async () => new ScriptedDetector(),
      onCallEnded: async (sid) => void ended.push(sid),
      live,
      callControl: ctl.control,
      toolsFor: (agent, o) => (offered.push(toolSpecsFor(agent, o)), toolSpecsFor(agent, o)),
      outbound: { repo: outcomes, greetingWaitMs: 60_000 },
    });
    const player = new FakeTwilioPlayer(50);
    const streamSid = uniqueSid('MZ');
    const start = {
      event: 'start' as const,
      sequenceNumber: '1',
      streamSid,
      start: { accountSid: 'AC1', streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { agentId: AGENT_ID, callSid, attemptId: at.id, direction: 'outbound' } },
    };
    const handler = await factory(start, player, silent);
    player.attach((name) => handler.onMark(name));
    expect(live.has(callSid)).toBe(true);
    expect(offered[0].map((t) => t.name)).toEqual(expect.arrayContaining(['opt_out', 'schedule_callback']));
    const row = await eventually(async () => {
      const r = await db('call_attempts').where({ id: at.id }).first();
      return r.voicemail_played !== null && r;
    });
    expect(row).toMatchObject({ answered_by: 'machine_end_silence', voicemail_played: true });
    await eventually(() => ctl.actions.some((x) => x.type === 'hangup'));
    await handler.onEnd('stop');
    player.close();
    const turns = await new CallsRepo(db).turns(callSid);
    expect(turns.map((t) => t.text)).toEqual(['Hi Ana, Acme here about order A-17. Please call us back.']);
    expect(ended).toEqual([callSid]);
    expect(live.has(callSid)).toBe(false);
  });
});
