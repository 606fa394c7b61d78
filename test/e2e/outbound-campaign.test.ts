import path from 'node:path';
import pino from 'pino';
import { DateTime } from 'luxon';
import { parse } from 'csv-parse/sync';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { AgentsRepo } from '../../src/db/agents';
import { DispatchRepo } from '../../src/db/dispatch';
import { DncRepo } from '../../src/db/dnc';
import { TwilioDialer } from '../../src/campaigns/dialer';
import { Dispatcher } from '../../src/campaigns/dispatcher';
import { DialPacer } from '../../src/campaigns/pacing';
import { startServer, type RunningServer } from '../../src/server';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeLlm, type FakeReply } from '../../src/providers/llm/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import type { ChatRequest } from '../../src/providers/types';
import { TwilioRestDouble, type CreatedCall } from '../doubles/twilio-rest-double';
import { TwilioCallDriver, type CalleeScript } from '../doubles/twilio-call-driver';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { quiesceCampaigns } from '../helpers/campaign-fixtures';
import { closeInProcessServer } from '../helpers/in-process-server';

/**
 * Issue 11 "Tests and figures": a 30-contact campaign across time zones on two dispatchers (CPS 5, max 3 in flight)
 * and two server instances sharing PostgreSQL and Redis, Twilio played by the REST double + call driver (callbacks,
 * webhooks, media streams and AMD spread over both servers). Scripted outcomes per contact: human, voicemail, busy,
 * no-answer, failed, opt-out (the LLM's opt_out tool), callback request (schedule_callback), and contacts whose
 * window is closed. Real clock with 1–2 s retry delays; the window is chosen around the real time of the run.
 */
const API_KEY = 'e2e-campaign-api-key-0123456789';
type Kind = 'human' | 'voicemail' | 'busy' | 'no-answer' | 'failed' | 'opt-out' | 'callback' | 'closed';
const PLAN: [Kind, number][] = [['human', 5], ['voicemail', 4], ['busy', 4], ['no-answer', 4], ['failed', 4], ['opt-out', 2], ['callback', 2], ['closed', 5]];
const RETRY = { maxAttempts: 3, delaysSeconds: { busy: [1, 2], noAnswer: [1], failed: [1], voicemail: [2] } };
// Zones spread over the day; at any real time some have local 10:00–17:59 (open) and some 00:00–05:59 (closed).
const ZONES = ['Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Denver', 'America/Chicago', 'America/New_York', 'America/Sao_Paulo', 'Atlantic/Cape_Verde', 'Europe/London', 'Europe/Paris', 'Europe/Athens', 'Europe/Moscow', 'Asia/Dubai', 'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Noumea', 'Pacific/Auckland', 'Pacific/Tongatapu', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];

let db: Knex;
let config: Readonly<Config>;
const ctxs: AppContext[] = [];
const servers: RunningServer[] = [];

function providers() {
  return {
    stt: new FakeStt({ respond: () => 'Hello?' }),
    // The contact's script is in its filled system prompt; opt-out and callback contacts answer with the tool call.
    llm: new FakeLlm({
      respond: (req: ChatRequest): string | FakeReply => {
        const last = req.messages[req.messages.length - 1] as { role: string };
        if (last?.role === 'tool') return 'Thank you, goodbye.';
        if (req.system.includes('script=opt-out')) return { text: '', toolCalls: [{ id: 't_opt', name: 'opt_out', arguments: '{}' }] };
        if (req.system.includes('script=callback')) return { text: '', toolCalls: [{ id: 't_cb', name: 'schedule_callback', arguments: JSON.stringify({ when: 'tomorrow at 3 pm' }) }] };
        return 'Okay.';
      },
    }),
    tts: new FakeTts({ firstByteMs: 5, msPerChar: 30 }),
  };
}

beforeAll(async () => {
  db = await setupTestDb();
  await migrateAndSeed(db);
  await quiesceCampaigns(db);
  config = loadConfig({
    NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', API_KEY,
    STT_PROVIDER: 'fake', LLM_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local', SILENCE_REPROMPT_MS: '0', OUTBOUND_GREETING_WAIT_MS: '60000',
  });
  const queuePrefix = `e2e-campaign-${process.pid}-${Date.now()}`;
  for (let i = 0; i < 2; i++) {
    const ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix, providers: providers(), twilioHttpClient: new TwilioRestDouble().client });
    ctxs.push(ctx);
    servers.push(await startServer(config, ctx));
  }
}, 120_000);

afterAll(async () => {
  await db('campaigns').where('id', 'like', 'cmp_%').where({ state: 'running' }).update({ state: 'cancelled' });
  await closeInProcessServer({ server: servers[1], ctx: ctxs[1] });
  await closeInProcessServer({ server: servers[0], ctx: ctxs[0], db });
});

const api = (p: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${servers[0].port}${p}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

it('30 contacts, 7 outcomes, time zones, two dispatchers, two servers: ceilings, windows, ladders, DNC, callback, report', async () => {
  const t0 = DateTime.utc();
  const hourIn = (z: string) => t0.setZone(z).hour;
  const open = ZONES.filter((z) => hourIn(z) >= 10 && hourIn(z) <= 17);
  const closed = ZONES.filter((z) => hourIn(z) <= 5);
  expect(open.length).toBeGreaterThanOrEqual(2);
  expect(closed.length).toBeGreaterThanOrEqual(2);

  const agentId = `cmp-e2e-${process.pid}`;
  await new AgentsRepo(db).upsert({
    id: agentId, name: 'Renewals', systemPrompt: 'You call {{first_name}}. script={{script}}', firstMessage: 'Hi {{first_name}}, Acme here.',
    defaultLanguage: 'en', languages: ['en'], voices: { en: 'en-us' }, intents: [], handoffNumber: null, isDefault: false,
  });
  const created = await api('/api/campaigns', {
    method: 'POST',
    body: JSON.stringify({ name: 'e2e 30', agentId, callerIds: ['+14155550100'], defaultRegion: 'US', window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '20:00' }, maxConcurrent: 3, cps: 5, retry: { maxAttempts: 3, delaysSeconds: { busy: [60, 120], noAnswer: [60], failed: [60], voicemail: [120] } }, voicemailMessage: 'Hi {{first_name}}, call Acme.' }),
  });
  expect(created.status).toBe(201);
  const campaignId = ((await created.json()) as { id: string }).id;
  // The same ladders in seconds instead of minutes (the API's minimum is 60 s).
  await db('campaigns').where({ id: campaignId }).update({ retry: JSON.stringify(RETRY) });

  const kinds: Kind[] = PLAN.flatMap(([k, n]) => Array<Kind>(n).fill(k));
  const base = 2_000_000 + (Date.now() % 100_000) * 10;
  const contacts = kinds.map((k, i) => ({
    phone: `+1415${base + i}`,
    name: `C${i}`,
    timezone: k === 'closed' ? closed[i % closed.length] : open[i % open.length],
    variables: { first_name: `C${i}`, script: k },
  }));
  const kindOf = new Map(contacts.map((c, i) => [c.phone, kinds[i]]));
  const zoneOf = new Map(contacts.map((c) => [c.phone, c.timezone]));
  const added = await api(`/api/campaigns/${campaignId}/contacts`, { method: 'POST', body: JSON.stringify({ contacts }) });
  expect(await added.json()).toMatchObject({ accepted: 30, rejected: [], suppressed: 0 });
  expect((await api(`/api/campaigns/${campaignId}/start`, { method: 'POST' })).status).toBe(200);

  // Twilio: the REST double + driver; scripted callees per contact and attempt.
  const human = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')).subarray(0, 8 * 1_500);
  const greeting = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav')).subarray(0, 8 * 1_500);
  const rest = new TwilioRestDouble();
  const dialsOf = new Map<string, number>();
  const errors: string[] = [];
  let live = 0;
  let peak = 0;
  const dbInFlight: number[] = [];
  const outOfWindow: string[] = [];
  const script = (call: CreatedCall): CalleeScript => {
    const n = dialsOf.get(call.to) ?? 0;
    dialsOf.set(call.to, n + 1);
    const local = DateTime.utc().setZone(zoneOf.get(call.to)!);
    if (local.hour < 9 || local.hour >= 20) outOfWindow.push(`${call.to} at ${local.toISO()}`);
    switch (kindOf.get(call.to)) {
      case 'human':
        return { kind: 'human', turns: [{ audio: human }] };
      case 'voicemail':
        return n === 1 ? { kind: 'no-connect', end: 'busy' } : { kind: 'machine', greeting, answeredBy: 'machine_end_beep' };
      case 'busy':
        return { kind: 'no-connect', end: 'busy' };
      case 'no-answer':
        return { kind: 'no-connect', end: 'no-answer' };
      case 'failed':
        return { kind: 'no-connect', end: 'failed' };
      case 'opt-out':
      case 'callback':
        return { kind: 'human', turns: [{ audio: human }, { audio: human }] };
      default:
        errors.push(`dialed ${call.to} (${kindOf.get(call.to)})`);
        return { kind: 'no-connect', end: 'failed' };
    }
  };
  const driver = new TwilioCallDriver({
    rest,
    servers: servers.map((s) => ({ origin: `http://127.0.0.1:${s.port}` })),
    publicBaseUrl: config.publicBaseUrl,
    authToken: config.twilio.authToken,
    accountSid: config.twilio.accountSid,
    script,
    onLive: (_call, d) => {
      live += d;
      peak = Math.max(peak, live);
    },
    onError: (m) => errors.push(m),
  });
  rest.onCreate = ((inner) => (call: CreatedCall) => {
    void db('campaign_contacts').where({ campaign_id: campaignId }).whereIn('state', ['dialing', 'in-progress']).count({ n: '*' }).then((r) => dbInFlight.push(Number(r[0].n)));
    inner?.(call);
  })(rest.onCreate);

  const repo = new DispatchRepo(db);
  const dialer = new TwilioDialer({ db, accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, publicBaseUrl: config.publicBaseUrl, httpClient: rest.client, ringTimeoutS: 25, inProgressLeaseMs: 600_000 });
  const dispatchers = ['e2e-worker-a', 'e2e-worker-b'].map(
    (owner, i) => new Dispatcher({ repo, dialer, pacer: new DialPacer(ctxs[i].authRedis, `${config.queuePrefix}-e2e-${process.pid}`), owner, leaseMs: 10_000, intervalMs: 200, globalMax: 50, logger: process.env.E2E_DEBUG ? pino({ level: 'info' }) : undefined }),
  );
  dispatchers.forEach((d) => d.start());

  // Run until every open-window contact is settled (final, or waiting for a far callback).
  const deadline = Date.now() + 80_000;
  for (;;) {
    const busy = await db('campaign_contacts')
      .where({ campaign_id: campaignId })
      .whereNotIn('phone', contacts.filter((_, i) => kinds[i] === 'closed').map((c) => c.phone))
      .where((q) => q.whereIn('state', ['pending', 'dialing', 'in-progress']).orWhere((r) => r.where('state', 'retry-scheduled').where('next_attempt_at', '<', new Date(Date.now() + 3_600_000))))
      .count({ n: '*' });
    if (Number(busy[0].n) === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await Promise.all(dispatchers.map((d) => d.stop()));
  await driver.idle();

  expect(errors).toEqual([]);
  expect(outOfWindow).toEqual([]);
  expect(peak).toBeLessThanOrEqual(3);
  expect(peak).toBeGreaterThanOrEqual(2);
  expect(Math.max(...dbInFlight)).toBeLessThanOrEqual(3);

  const rows: any[] = await db('campaign_contacts').where({ campaign_id: campaignId }).select('id', 'phone', 'state', 'attempts', 'last_outcome', 'next_attempt_at');
  const attempts: any[] = await db('call_attempts').where({ campaign_id: campaignId }).orderBy(['contact_id', 'attempt_no']);
  const expected: Record<Kind, [string, number, string | null, (string | null)[]]> = {
    human: ['done', 1, 'completed', ['completed']],
    voicemail: ['done', 3, 'voicemail', ['voicemail', 'busy', 'voicemail']],
    busy: ['failed', 3, 'busy', ['busy', 'busy', 'busy']],
    'no-answer': ['failed', 3, 'no-answer', ['no-answer', 'no-answer', 'no-answer']],
    failed: ['failed', 3, 'failed', ['failed', 'failed', 'failed']],
    'opt-out': ['opted-out', 1, 'opted-out', ['completed']],
    callback: ['retry-scheduled', 1, 'callback', ['completed']],
    closed: ['pending', 0, null, []],
  };
  // The gap (s) before each retry: the ladder of the previous attempt's outcome (n-th retry on a ladder → entry n-1).
  const gaps: Partial<Record<Kind, number[]>> = { voicemail: [2, 1], busy: [1, 2], 'no-answer': [1, 1], failed: [1, 1] };
  for (const r of rows) {
    const kind = kindOf.get(r.phone)!;
    const mine = attempts.filter((a) => String(a.contact_id) === String(r.id));
    expect([kind, r.state, r.attempts, r.last_outcome, mine.map((a) => a.outcome)]).toEqual([kind, ...expected[kind]]);
    expect(mine.map((a) => a.attempt_no)).toEqual(mine.map((_, i) => i + 1));
    (gaps[kind] ?? []).forEach((g, i) => {
      const waited = mine[i + 1].requested_at.getTime() - mine[i].ended_at.getTime();
      expect([kind, i, waited >= g * 1000 - 50]).toEqual([kind, i, true]);
    });
    if (kind === 'voicemail') {
      expect([mine[0], mine[2]].map((a) => [a.answered_by, a.amd_source, a.voicemail_played])).toEqual([['machine_end_beep', 'twilio-amd', true], ['machine_end_beep', 'twilio-amd', true]]);
    }
    if (kind === 'callback') {
      const want = DateTime.utc().setZone(zoneOf.get(r.phone)!).plus({ days: 1 }).set({ hour: 15, minute: 0, second: 0, millisecond: 0 });
      expect(r.next_attempt_at.toISOString()).toBe(want.toUTC().toISO());
    }
    if (kind === 'closed') expect(dialsOf.get(r.phone)).toBeUndefined();
  }
  // The opt-outs are on the DNC list with the call as provenance and never dialed again.
  const optOuts = contacts.filter((_, i) => kinds[i] === 'opt-out').map((c) => c.phone);
  for (const p of optOuts) {
    expect(dialsOf.get(p)).toBe(1);
    const callSid = attempts.find((a) => a.to_number === p).call_sid;
    expect(await new DncRepo(db).get(p)).toMatchObject({ number: p, source: 'opt_out', provenance: { callSid, campaignId } });
  }
  // No double dial: one calls.create per attempt, every attempt placed once.
  expect(rest.created).toHaveLength(attempts.length);
  expect(new Set(rest.created.map((c) => new URL(c.url).searchParams.get('attemptId'))).size).toBe(attempts.length);
  expect(new Set(attempts.map((a) => a.call_sid)).size).toBe(attempts.length);
  // Both servers held media streams; every AMD result reached the session through the other server (Redis pub/sub).
  const handledBy = await db('calls').where({ campaign_id: campaignId }).count({ n: '*' });
  expect(Number(handledBy[0].n)).toBe(attempts.filter((a) => a.answered_at).length);
  expect(new Set(driver.answered.map((a) => a.streamServer)).size).toBe(2);
  const amd = driver.answered.filter((a) => a.amdServer);
  expect(amd).toHaveLength(8);
  expect(amd.every((a) => a.amdServer !== a.streamServer)).toBe(true);

  // The report.
  const progress = (await (await api(`/api/campaigns/${campaignId}`)).json()) as { counts: object; funnel: object; attemptsUsed: number };
  expect(progress.counts).toMatchObject({ pending: 5, done: 9, failed: 12, 'opted-out': 2, 'retry-scheduled': 2, dialing: 0, 'in-progress': 0 });
  expect(progress.funnel).toMatchObject({ contacts: 30, dialed: 25, answered: 13, human: 9, voicemail: 4, completed: 9, optedOut: 2 });
  expect(progress.attemptsUsed).toBe(5 + 12 + 12 + 12 + 12 + 2 + 2);
  const csv = await (await api(`/api/campaigns/${campaignId}/report.csv`)).text();
  const records: Record<string, string>[] = parse(csv, { columns: true });
  expect(records).toHaveLength(30);
  const byPhone = new Map(records.map((r) => [r.phone.replace(/^'/, ''), r]));
  for (const c of contacts) {
    const [state, n] = expected[kindOf.get(c.phone)!];
    expect([c.phone, byPhone.get(c.phone)?.state, byPhone.get(c.phone)?.attempts]).toEqual([c.phone, state, String(n)]);
  }
}, 120_000);
