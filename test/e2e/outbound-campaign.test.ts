import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parse } from 'csv-parse/sync';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { migrateAndSeed } from '../../src/db/setup';
import { AgentsRepo } from '../../src/db/agents';
import { DncRepo } from '../../src/db/dnc';
import { parseCallbackTime } from '../../src/domain/callback-time';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { TwilioRestDouble, type CreatedCall } from '../doubles/twilio-rest-double';
import { serveTwilioRestDouble } from '../doubles/twilio-rest-http';
import { TwilioCallDriver, type CalleeScript } from '../doubles/twilio-call-driver';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { quiesceCampaigns } from '../helpers/campaign-fixtures';
import { spawnEntry, startServerEntry, type EntryProcess } from '../helpers/child-process';
import { spokenMulaw, voicemailGreetingMulaw } from '../helpers/spoken-audio';

/**
 * Issue 11 "Tests and figures": a 30-contact campaign across time zones on two worker processes (`workers/main.ts`,
 * each running the dispatcher; CPS 5, max 3 in flight) and two server processes (`src/main.ts`) sharing PostgreSQL and
 * Redis, all real child processes in their own process groups. Twilio is the REST double served over HTTP
 * (`TWILIO_API_BASE_URL`) + the call driver, which spreads callbacks, webhooks, media streams and AMD over both
 * servers like a load balancer. The servers run the offline stack (Moonshine STT, local responder, espeak-ng TTS).
 * Callees speak real audio: a LibriVox recording (human), a voicemail greeting made with espeak-ng + sox (speech + a
 * 1 kHz beep), and espeak-ng phrases for the opt-out ("Please stop calling me.", caught by the engine's phrase matcher)
 * and the callback request ("Call me again on <the weekday two days ahead> at three.", the local responder + chrono-node). Scripted outcomes:
 * human, voicemail, busy, no-answer, failed, opt-out, callback, and contacts whose window is closed. Real clock with
 * 1–2 s retry delays; the window is chosen around the real time of the run.
 */
const API_KEY = 'e2e-campaign-api-key-0123456789';
type Kind = 'human' | 'voicemail' | 'busy' | 'no-answer' | 'failed' | 'opt-out' | 'callback' | 'closed';
const PLAN: [Kind, number][] = [['human', 5], ['voicemail', 4], ['busy', 4], ['no-answer', 4], ['failed', 4], ['opt-out', 2], ['callback', 2], ['closed', 5]];
const RETRY = { maxAttempts: 3, delaysSeconds: { busy: [1, 2], noAnswer: [1], failed: [1], voicemail: [2] } };
// Zones spread over the day; at any real time some have local 10:00–17:59 (open) and some 00:00–05:59 (closed).
const ZONES = ['Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Denver', 'America/Chicago', 'America/New_York', 'America/Sao_Paulo', 'Atlantic/Cape_Verde', 'Europe/London', 'Europe/Paris', 'Europe/Athens', 'Europe/Moscow', 'Asia/Dubai', 'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Noumea', 'Pacific/Auckland', 'Pacific/Tongatapu', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];

let db: Knex;
let config: Readonly<Config>;
let audioDir: string;
const rest = new TwilioRestDouble();
let twilioHttp: Awaited<ReturnType<typeof serveTwilioRestDouble>>;
const servers: (EntryProcess & { origin: string })[] = [];
const workers: EntryProcess[] = [];

beforeAll(async () => {
  db = await setupTestDb();
  await migrateAndSeed(db);
  await quiesceCampaigns(db);
  audioDir = mkdtempSync(path.join(tmpdir(), 'e2e-campaign-'));
  twilioHttp = await serveTwilioRestDouble(rest);
  const env = {
    NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'warn', API_KEY, QUEUE_PREFIX: `e2e-campaign-${process.pid}-${Date.now()}`,
    TWILIO_API_BASE_URL: twilioHttp.url, STT_PROVIDER: 'local', STT_FALLBACK: 'none', LLM_PROVIDER: 'local', TTS_PROVIDER: 'local',
    EMBEDDINGS_PROVIDER: 'local', VECTOR_PROVIDER: 'postgres', SILENCE_REPROMPT_MS: '0', OUTBOUND_GREETING_WAIT_MS: '60000', LOCAL_STT_CONCURRENCY: '1',
    // CI's 2 cores run four processes: a slow decode or synthesis is waited for, not skipped by an open breaker.
    STT_TIMEOUT_MS: '30000', TTS_FIRST_BYTE_TIMEOUT_MS: '15000', LLM_FIRST_TOKEN_TIMEOUT_MS: '15000', BREAKER_FAILURES: '100',
  };
  config = loadConfig(env);
  // Servers take calls only; the workers dispatch (a 10 s claim lease, a 200 ms tick, a global ceiling above the campaign's).
  const started = await Promise.all([0, 1].map(() => startServerEntry({ ...env, DISPATCHER_ENABLED: 'false' })));
  servers.push(...started);
  for (let i = 0; i < 2; i++) {
    workers.push(spawnEntry('workers/main.ts', { ...env, STT_PROVIDER: 'fake', DISPATCHER_ENABLED: 'true', OUTBOUND_MAX_CONCURRENT: '50', DIAL_LEASE_MS: '10000', DISPATCH_INTERVAL_MS: '200' }));
  }
}, 150_000);

afterAll(async () => {
  if (process.env.E2E_DEBUG) for (const [i, p] of [...servers, ...workers].entries()) process.stderr.write(`--- process ${i} ---\n${p.output()}\n`);
  await db('campaigns').where('id', 'like', 'cmp_%').where({ state: 'running' }).update({ state: 'cancelled' });
  await Promise.all([...workers, ...servers].map((p) => p.stop()));
  await twilioHttp?.close();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
  await db.destroy();
}, 60_000);

const api = (p: string, init: RequestInit = {}) =>
  fetch(`${servers[0].origin}${p}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

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
    // The callback's spoken weekday is "two days ahead" in open[0]; open zones can straddle midnight (UTC−10 and UTC+14
    // both open), so the callback contacts live in that zone.
    timezone: k === 'closed' ? closed[i % closed.length] : k === 'callback' ? open[0] : open[i % open.length],
    variables: { first_name: `C${i}`, script: k },
  }));
  const kindOf = new Map(contacts.map((c, i) => [c.phone, kinds[i]]));
  const zoneOf = new Map(contacts.map((c) => [c.phone, c.timezone]));
  const added = await api(`/api/campaigns/${campaignId}/contacts`, { method: 'POST', body: JSON.stringify({ contacts }) });
  expect(await added.json()).toMatchObject({ accepted: 30, rejected: [], suppressed: 0 });

  // Twilio: the REST double (over HTTP for the workers and servers) + driver; scripted callees per contact and attempt.
  const human = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')).subarray(0, 8 * 1_500);
  const hello = spokenMulaw(audioDir, 'hello', 'Hello?');
  const stop = spokenMulaw(audioDir, 'opt-out', 'Please stop calling me.');
  // A weekday two days ahead in the callback contacts' zone (open[0]). Measured in live calls
  // (en-us+m3, 150 wpm): Moonshine base heard "tomorrow" as "to my room" / "to Maro" and "call me back" as "call me
  // Mac"; weekday names and "call me again" come through.
  const callbackDay = t0.setZone(open[0]).plus({ days: 2 });
  const callBack = spokenMulaw(audioDir, 'callback', `Please call me again on ${callbackDay.setLocale('en').weekdayLong} at three in the afternoon.`);
  const greeting = voicemailGreetingMulaw(audioDir);
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
      // They wait for the agent's answer (the opt-out confirmation ends the call; the callback confirmation is heard).
      case 'opt-out':
        return { kind: 'human', turns: [{ audio: hello }, { audio: stop }], patienceMs: 12_000 };
      case 'callback':
        return { kind: 'human', turns: [{ audio: hello }, { audio: callBack }], patienceMs: 12_000 };
      default:
        errors.push(`dialed ${call.to} (${kindOf.get(call.to)})`);
        return { kind: 'no-connect', end: 'failed' };
    }
  };
  const driver = new TwilioCallDriver({
    rest,
    servers: servers.map((s) => ({ origin: s.origin })),
    publicBaseUrl: config.publicBaseUrl,
    authToken: config.twilio.authToken,
    accountSid: config.twilio.accountSid,
    script,
    onLive: (_call, d) => {
      live += d;
      peak = Math.max(peak, live);
    },
    onError: (m) => errors.push(m),
    // A callee waits for the agent's answer (the offline STT on a shared 2-core runner can take seconds per turn).
    replyTimeoutMs: 30_000,
  });
  rest.onCreate = ((inner) => (call: CreatedCall) => {
    void db('campaign_contacts').where({ campaign_id: campaignId }).whereIn('state', ['dialing', 'in-progress']).count({ n: '*' }).then((r) => dbInFlight.push(Number(r[0].n)));
    inner?.(call);
  })(rest.onCreate);

  const t1 = Date.now();
  // eslint-disable-next-line no-console
  if (process.env.E2E_DEBUG) console.log(`started ${((t1 - t0.toMillis()) / 1000).toFixed(1)} s into the test`);
  expect((await api(`/api/campaigns/${campaignId}/start`, { method: 'POST' })).status).toBe(200);

  // Run until every open-window contact is settled (final, or waiting for a far callback).
  const deadline = Date.now() + 200_000;
  for (;;) {
    const busy = await db('campaign_contacts')
      .where({ campaign_id: campaignId })
      .whereNotIn('phone', contacts.filter((_, i) => kinds[i] === 'closed').map((c) => c.phone))
      .where((q) => q.whereIn('state', ['pending', 'dialing', 'in-progress']).orWhere((r) => r.where('state', 'retry-scheduled').where('next_attempt_at', '<', new Date(Date.now() + 3_600_000))))
      .count({ n: '*' });
    if (Number(busy[0].n) === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await Promise.all(workers.map((w) => w.stop()));
  await driver.idle();
  // eslint-disable-next-line no-console
  console.log(`campaign ran ${((Date.now() - t1) / 1000).toFixed(1)} s after start`);

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
      // The callback is the callee's words as heard (Moonshine's transcript) read in the contact's zone: on the spoken
      // weekday, at the hour parseCallbackTime gives for the stored words (15:00 when "three" came through).
      const zone = zoneOf.get(r.phone)!;
      const heard: any[] = await db('call_turns').where({ call_sid: mine[0].call_sid, role: 'caller' }).orderBy('seq');
      // From the request on: a request the VAD split after its day ("… on Saturday," / "at three …") is asked about and
      // then booked from both parts together (the local responder's follow-up).
      const texts: string[] = heard.map((t) => t.text);
      const request = texts.findIndex((t) => /again/i.test(t));
      const words = request < 0 ? '' : texts.slice(request).join(' ');
      const call = await db('calls').where({ call_sid: mine[0].call_sid }).first('started_at');
      const want = parseCallbackTime(words, { now: call.started_at, timeZone: zone });
      expect([words, r.next_attempt_at.toISOString()]).toEqual([words, want?.toISOString()]);
      expect(DateTime.fromJSDate(r.next_attempt_at, { zone }).toISODate()).toBe(t0.setZone(zone).plus({ days: 2 }).toISODate());
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
  // Opt-out and callback came from speech: Moonshine's transcript, the engine's phrase matcher (via `phrase`, not the
  // LLM's tool) and the local responder's schedule_callback with chrono-node on the callee's words.
  const spoken = contacts.filter((_, i) => kinds[i] === 'opt-out' || kinds[i] === 'callback').map((c) => c.phone);
  const spokenSids = attempts.filter((a) => spoken.includes(a.to_number)).map((a) => a.call_sid);
  const events: any[] = await db('call_events').whereIn('call_sid', spokenSids).whereIn('type', ['opt_out', 'callback']);
  const heard: any[] = await db('call_turns').whereIn('call_sid', spokenSids).where({ role: 'caller' }).orderBy(['call_sid', 'seq']);
  // eslint-disable-next-line no-console
  console.log(`caller transcripts (Moonshine):\n${heard.map((t) => `${kindOf.get(attempts.find((a) => a.call_sid === t.call_sid).to_number)}: "${t.text}"`).join('\n')}`);
  for (const p of spoken) {
    const sid = attempts.find((a) => a.to_number === p).call_sid;
    // The hour is checked above against the stored words; Moonshine writes "Saturday, at three" (a comma the old pattern missed).
    const mine = events.filter((e) => e.call_sid === sid).map((e) => [e.type, e.payload.via ?? null, /stop calling me|call me again on \w+/i.test(e.payload.utterance ?? e.payload.said ?? '')]);
    expect([p, mine]).toEqual([p, [kindOf.get(p) === 'opt-out' ? ['opt_out', 'phrase', true] : ['callback', null, true]]]);
  }
  for (const p of optOuts) expect((await new DncRepo(db).get(p))?.provenance).toMatchObject({ utterance: expect.stringMatching(/stop calling me/i) });
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
}, 260_000);
