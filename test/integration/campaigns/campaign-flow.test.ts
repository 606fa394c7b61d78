import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { addContacts, makeCampaign, quiesceCampaigns, serveOutboundStatus } from '../../helpers/campaign-fixtures';
import { TwilioRestDouble, type CallEnd, type CreatedCall } from '../../doubles/twilio-rest-double';
import { DispatchRepo } from '../../../src/db/dispatch';
import { TwilioDialer } from '../../../src/campaigns/dialer';
import { Dispatcher } from '../../../src/campaigns/dispatcher';

/**
 * The whole dispatch path without a network: two dispatchers with the real TwilioDialer against the REST double,
 * whose calls end through signed, shuffled status callbacks to the real route; scripted outcomes per contact and
 * an injected clock that jumps past retry delays.
 */
const TOKEN = 'flow-token';
const PUBLIC = 'https://voice.example.test';
let clock = new Date('2026-12-02T12:00:00Z').getTime();
const now = () => new Date(clock);
let db: Knex;
let closeServer: () => Promise<void>;
let origin: string;

beforeAll(async () => {
  db = await setupTestDb();
  await quiesceCampaigns(db);
  ({ origin, close: closeServer } = await serveOutboundStatus(db, { token: TOKEN, publicBaseUrl: PUBLIC, now }));
});
afterAll(async () => {
  await db('campaigns').where('id', 'like', 'cmp_%').update({ state: 'cancelled' });
  await closeServer();
  await db.destroy();
});

it('runs a campaign to completion on two dispatchers: ceilings, ladders, voicemail, no double dial', async () => {
  const campaignId = await makeCampaign(db, {
    maxConcurrent: 3,
    retry: { maxAttempts: 3, delaysSeconds: { busy: [600], noAnswer: [900], failed: [300], voicemail: [3_600] } },
  });
  const contacts = await addContacts(db, campaignId, 12);
  const phones = new Map<string, number>((await db('campaign_contacts').whereIn('id', contacts).select('id', 'phone')).map((r: any) => [r.phone, contacts.indexOf(String(r.id))]));
  // Script per contact index (i % 4) and attempt: human | busy then human | no-answer every time | voicemail then human.
  const script: Record<number, [CallEnd, string?][]> = {
    0: [['completed', 'human']],
    1: [['busy'], ['completed', 'human']],
    2: [['no-answer'], ['no-answer'], ['no-answer']],
    3: [['completed', 'machine_end_beep'], ['completed', 'human']],
  };
  const rest = new TwilioRestDouble();
  const repo = new DispatchRepo(db);
  const seen = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  let peak = 0;
  let live = 0;
  const violations: string[] = [];
  rest.onCreate = (call: CreatedCall) => {
    live++;
    peak = Math.max(peak, live);
    if (live > 3) violations.push(`${live} calls live`);
    const idx = phones.get(call.to)!;
    const n = seen.get(call.to) ?? 0;
    seen.set(call.to, n + 1);
    const [end, answeredBy] = script[idx % 4][Math.min(n, script[idx % 4].length - 1)];
    const p = new Promise((r) => setTimeout(r, 80 + Math.random() * 40))
      .then(() => {
        live--; // Twilio considers the call over once it sends the terminal callback
        return TwilioRestDouble.deliver(rest.statusCallbacks(call, end, TOKEN, { answeredBy, order: 'shuffled' }), origin);
      })
      .then((codes) => codes.forEach((c) => c !== 204 && violations.push(`callback answered ${c}`)));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const dialer = new TwilioDialer({ db, accountSid: 'AC22222222222222222222222222222222', authToken: TOKEN, publicBaseUrl: PUBLIC, httpClient: rest.client, ringTimeoutS: 25, inProgressLeaseMs: 3_900_000, now });
  const ds = ['flow-a', 'flow-b'].map((owner) => new Dispatcher({ repo, dialer, pacer: null, owner, leaseMs: 60_000, intervalMs: 1_000, globalMax: 50, now }));
  for (let round = 0; round < 200; round++) {
    await Promise.all(ds.map((d) => d.tick()));
    await Promise.all(ds.map((d) => d.settled()));
    while (pending.size) await Promise.allSettled([...pending]);
    const c = await db('campaigns').where({ id: campaignId }).first();
    if (c.state === 'completed') break;
    const open = await db('campaign_contacts').where({ campaign_id: campaignId }).whereIn('state', ['pending', 'dialing', 'in-progress']).count({ n: '*' });
    if (Number(open[0].n) === 0) clock += 3_600_000; // only retries left: jump past the longest delay
  }
  expect(violations).toEqual([]);
  expect(peak).toBe(3);
  expect((await db('campaigns').where({ id: campaignId }).first()).state).toBe('completed');
  const rows = await db('campaign_contacts').where({ campaign_id: campaignId }).select('id', 'state', 'attempts', 'last_outcome');
  for (const r of rows) {
    const idx = contacts.indexOf(String(r.id)) % 4;
    const expected = { 0: ['done', 1, 'completed'], 1: ['done', 2, 'completed'], 2: ['failed', 3, 'no-answer'], 3: ['done', 2, 'completed'] }[idx]!;
    expect([r.state, r.attempts, r.last_outcome]).toEqual(expected);
  }
  // One Twilio call per attempt, never two for one attempt.
  const attempts = await db('call_attempts').where({ campaign_id: campaignId }).select('id', 'call_sid', 'outcome');
  expect(rest.created).toHaveLength(attempts.length);
  expect(new Set(rest.created.map((c) => c.url)).size).toBe(attempts.length);
  expect(attempts.every((a: any) => a.call_sid && a.outcome)).toBe(true);
  expect(attempts.filter((a: any) => a.outcome === 'voicemail')).toHaveLength(3);
});
