import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { addContacts, makeCampaign, quiesceCampaigns, serveOutboundStatus } from '../../helpers/campaign-fixtures';
import { TwilioRestDouble, type CreatedCall } from '../../doubles/twilio-rest-double';
import { DispatchRepo, type Claim } from '../../../src/db/dispatch';
import { DncRepo } from '../../../src/db/dnc';
import { TwilioDialer, DialFailed } from '../../../src/campaigns/dialer';
import { DialRefused } from '../../../src/campaigns/dialer-port';
import { DialBreaker } from '../../../src/campaigns/breaker';
import { signTwilioRequest } from '../../../src/telephony/signature';

const TOKEN = 'dispatch-test-token';
const PUBLIC = 'https://voice.example.test';
const SID = 'AC11111111111111111111111111111111';
const T0 = new Date('2026-12-02T12:00:00Z');
let clock = T0.getTime();
const now = () => new Date(clock);

let db: Knex;
let repo: DispatchRepo;
let closeServer: () => Promise<void>;
let origin: string;
let rest: TwilioRestDouble;

beforeAll(async () => {
  db = await setupTestDb();
  repo = new DispatchRepo(db);
  ({ origin, close: closeServer } = await serveOutboundStatus(db, { token: TOKEN, publicBaseUrl: PUBLIC, now }));
});
afterAll(async () => {
  await db('campaigns').where('id', 'like', 'cmp_%').update({ state: 'cancelled' });
  await closeServer();
  await db.destroy();
});
beforeEach(async () => {
  clock = T0.getTime();
  rest = new TwilioRestDouble();
  await quiesceCampaigns(db);
});

const dialerFor = (o: Partial<ConstructorParameters<typeof TwilioDialer>[0]> = {}) =>
  new TwilioDialer({
    db,
    accountSid: SID,
    authToken: TOKEN,
    publicBaseUrl: PUBLIC,
    apiBaseUrl: 'http://twilio-emulator.test:4010',
    httpClient: rest.client,
    ringTimeoutS: 25,
    inProgressLeaseMs: 3_900_000,
    now,
    ...o,
  });

async function claimOne(campaignId: string): Promise<Claim> {
  const c = (await repo.campaign(campaignId))!;
  const { claims } = await repo.claim(c, { owner: 'test', leaseMs: 60_000, now: now(), globalMax: 100, max: 1, isOpen: () => true, nextOpening: () => null });
  expect(claims).toHaveLength(1);
  return claims[0];
}
const contact = (id: string) => db('campaign_contacts').where({ id }).first();
const attempt = (id: string) => db('call_attempts').where({ id }).first();

describe('TwilioDialer', () => {
  it('places calls.create with the webhooks, AMD and ring timeout at TWILIO_API_BASE_URL, records the CallSid, and is idempotent', async () => {
    const campaignId = await makeCampaign(db);
    await addContacts(db, campaignId, 1);
    const claim = await claimOne(campaignId);
    const dialer = dialerFor();
    const { callSid } = await dialer.dial(claim.attemptId, { owner: 'test' });
    expect(rest.requests).toHaveLength(1);
    expect(rest.requests[0].method).toBe('POST');
    expect(rest.requests[0].uri).toBe(`http://twilio-emulator.test:4010/2010-04-01/Accounts/${SID}/Calls.json`);
    const call = rest.created[0];
    expect(call).toMatchObject({
      sid: callSid,
      to: claim.phone,
      from: '+15550000001',
      url: `${PUBLIC}/twilio/outbound/voice?attemptId=${claim.attemptId}`,
      statusCallback: `${PUBLIC}/twilio/outbound/status?attemptId=${claim.attemptId}`,
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      machineDetection: 'DetectMessageEnd',
      asyncAmd: 'true',
      asyncAmdStatusCallback: `${PUBLIC}/twilio/amd`,
      timeout: 25,
    });
    expect(await attempt(claim.attemptId)).toMatchObject({ call_sid: callSid, status: 'queued', from_number: '+15550000001' });
    expect(await contact(claim.contactId)).toMatchObject({ state: 'in-progress', last_call_sid: callSid });
    expect(await dialer.dial(claim.attemptId)).toEqual({ callSid });
    expect(rest.requests).toHaveLength(1);
  });

  it('re-checks the DNC list right before dialing: listed → no dial, contact suppressed; check failing → no dial, claim given back', async () => {
    const campaignId = await makeCampaign(db);
    await addContacts(db, campaignId, 2);
    const first = await claimOne(campaignId);
    await new DncRepo(db).add({ number: first.phone, source: 'api', provenance: {} });
    await expect(dialerFor().dial(first.attemptId)).rejects.toMatchObject({ name: 'DialRefused', reason: 'dnc' });
    expect(await contact(first.contactId)).toMatchObject({ state: 'suppressed', lease_owner: null });
    expect(await attempt(first.attemptId)).toMatchObject({ outcome: 'dnc', call_sid: null });

    const second = await claimOne(campaignId);
    const broken = dialerFor({ dnc: { isListed: async () => { throw new Error('connection refused'); } } });
    const err = await broken.dial(second.attemptId).catch((e) => e);
    expect(err).toBeInstanceOf(DialRefused);
    expect(err.reason).toBe('dnc_check_failed');
    expect(rest.requests).toHaveLength(0);
    expect(await contact(second.contactId)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await attempt(second.attemptId)).toBeUndefined();
  });

  it('does not dial when the window closed between the claim and the dial; the claim is given back until it opens', async () => {
    const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as any, start: '09:00', end: '20:00', blackoutDates: [] };
    const campaignId = await makeCampaign(db, { window });
    await addContacts(db, campaignId, 1, { timezones: ['America/New_York'] });
    clock = new Date('2026-12-03T00:59:59Z').getTime(); // Wed 19:59:59 in New York
    const claim = await claimOne(campaignId);
    clock += 2_000; // 20:00:01: closed
    await expect(dialerFor().dial(claim.attemptId)).rejects.toMatchObject({ name: 'DialRefused', reason: 'window' });
    expect(rest.requests).toHaveLength(0);
    const c = await contact(claim.contactId);
    expect(c).toMatchObject({ state: 'pending', attempts: 0 });
    expect(new Date(c.next_attempt_at).toISOString()).toBe('2026-12-03T14:00:00.000Z');
  });

  it('rotates caller IDs, least used today first, skipping one at its daily cap', async () => {
    // Fresh numbers: usage is counted across the whole database since 00:00 UTC.
    const n = String(Date.now() % 100_000).padStart(5, '0');
    const [capped, open] = [`+1555${n}01`, `+1555${n}02`];
    const campaignId = await makeCampaign(db, {
      maxConcurrent: 10,
      callerIds: [
        { number: capped, dailyCap: 1 },
        { number: open, dailyCap: null },
      ],
    });
    await addContacts(db, campaignId, 3);
    const dialer = dialerFor();
    for (let i = 0; i < 3; i++) await dialer.dial((await claimOne(campaignId)).attemptId);
    expect(rest.created.map((c) => c.from)).toEqual([capped, open, open]);
  });

  it('a Twilio error fails the attempt, schedules the failed ladder, and the breaker pauses the campaign with the reason', async () => {
    const campaignId = await makeCampaign(db, { maxConcurrent: 10, callerIds: [{ number: '+15550000199', dailyCap: null }] });
    rest.rejectFrom.add('+15550000199');
    await addContacts(db, campaignId, 6);
    const dialer = dialerFor({ breaker: new DialBreaker(repo, { threshold: 5, window: 10 }) });
    const first = await claimOne(campaignId);
    const err = await dialer.dial(first.attemptId).catch((e) => e);
    expect(err).toBeInstanceOf(DialFailed);
    expect(err.code).toBe(21210);
    expect(await attempt(first.attemptId)).toMatchObject({ status: 'failed', outcome: 'failed', call_sid: null, error: expect.stringContaining('21210') });
    const c = await contact(first.contactId);
    expect(c.state).toBe('retry-scheduled');
    expect(new Date(c.next_attempt_at).getTime()).toBe(clock + 300_000);
    for (let i = 0; i < 3; i++) await dialer.dial((await claimOne(campaignId)).attemptId).catch(() => undefined);
    expect((await repo.campaign(campaignId))!.state).toBe('running'); // 4 failures
    await dialer.dial((await claimOne(campaignId)).attemptId).catch(() => undefined);
    const camp = await db('campaigns').where({ id: campaignId }).first();
    expect(camp.state).toBe('paused');
    expect(camp.pause_reason).toMatch(/5 of the last 5 dials failed.*21210/);
  });
});

describe('POST /twilio/outbound/status', () => {
  async function placed(o: { maxAttempts?: number } = {}): Promise<{ claim: Claim; call: CreatedCall }> {
    const campaignId = await makeCampaign(db, o.maxAttempts ? { retry: { maxAttempts: o.maxAttempts, delaysSeconds: { busy: [600, 1_200], noAnswer: [900], failed: [300], voicemail: [3_600] } } } : {});
    await addContacts(db, campaignId, 1);
    const claim = await claimOne(campaignId);
    await dialerFor().dial(claim.attemptId);
    return { claim, call: rest.created.at(-1)! };
  }

  it('in order: a human conversation ends the contact done and frees the slot', async () => {
    const { claim, call } = await placed();
    const statuses = await TwilioRestDouble.deliver(rest.statusCallbacks(call, 'completed', TOKEN, { answeredBy: 'human' }), origin);
    expect(statuses).toEqual([204, 204, 204, 204]);
    expect(await attempt(claim.attemptId)).toMatchObject({ status: 'completed', outcome: 'completed', status_sequence: 3, answered_by: 'human' });
    expect(await contact(claim.contactId)).toMatchObject({ state: 'done', last_outcome: 'completed', lease_expires_at: null });
    expect((await repo.inFlight(db, claim.campaignId, now())).campaign).toBe(0);
  });

  it('out of order: the terminal report first, later ones ignored; busy follows its ladder', async () => {
    const { claim, call } = await placed();
    const cbs = rest.statusCallbacks(call, 'busy', TOKEN, { order: [2, 0, 1] });
    expect(cbs.map((c) => c.params.CallStatus)).toEqual(['busy', 'initiated', 'ringing']);
    expect(await TwilioRestDouble.deliver(cbs, origin)).toEqual([204, 204, 204]);
    expect(await attempt(claim.attemptId)).toMatchObject({ status: 'busy', outcome: 'busy', status_sequence: 2 });
    const c = await contact(claim.contactId);
    expect(c.state).toBe('retry-scheduled');
    expect(new Date(c.next_attempt_at).getTime()).toBe(clock + 600_000);
  });

  it('shuffled, with a callback replayed: settles once', async () => {
    const { claim, call } = await placed();
    const cbs = rest.statusCallbacks(call, 'no-answer', TOKEN, { order: 'shuffled' });
    await TwilioRestDouble.deliver([...cbs, ...cbs], origin);
    expect(await attempt(claim.attemptId)).toMatchObject({ outcome: 'no-answer', status: 'no-answer' });
    const c = await contact(claim.contactId);
    expect(c).toMatchObject({ state: 'retry-scheduled', attempts: 1 });
    expect(new Date(c.next_attempt_at).getTime()).toBe(clock + 900_000);
  });

  it('a machine answer (AnsweredBy on the callback or stored by the AMD callback) is a voicemail outcome', async () => {
    const a = await placed();
    await TwilioRestDouble.deliver(rest.statusCallbacks(a.call, 'completed', TOKEN, { answeredBy: 'machine_end_beep' }), origin);
    expect(await attempt(a.claim.attemptId)).toMatchObject({ outcome: 'voicemail' });
    expect(await contact(a.claim.contactId)).toMatchObject({ state: 'retry-scheduled', last_outcome: 'voicemail' });

    const b = await placed({ maxAttempts: 1 });
    await db('call_attempts').where({ id: b.claim.attemptId }).update({ answered_by: 'machine_end_silence', amd_source: 'twilio-amd' });
    await TwilioRestDouble.deliver(rest.statusCallbacks(b.call, 'completed', TOKEN), origin);
    expect(await attempt(b.claim.attemptId)).toMatchObject({ outcome: 'voicemail' });
    expect(await contact(b.claim.contactId)).toMatchObject({ state: 'done' }); // budget used, message left
  });

  it('never overwrites a contact that opted out during the call', async () => {
    const { claim, call } = await placed();
    await db('campaign_contacts').where({ id: claim.contactId }).update({ state: 'opted-out' });
    await TwilioRestDouble.deliver(rest.statusCallbacks(call, 'completed', TOKEN), origin);
    expect(await contact(claim.contactId)).toMatchObject({ state: 'opted-out', lease_expires_at: null });
    expect(await attempt(claim.attemptId)).toMatchObject({ outcome: 'completed' });
  });

  it('a callback the callee booked during the call: the slot stays taken until the call ends, then the contact is due at the booked time', async () => {
    const { claim, call } = await placed();
    const at = new Date(clock + 86_400_000);
    const c0 = await contact(claim.contactId);
    await db('calls').insert({ call_sid: call.sid, agent_id: (await db('campaigns').where({ id: claim.campaignId }).first('agent_id')).agent_id, direction: 'outbound-api', from_number: '+15550000001', to_number: c0.phone, status: 'in-progress' });
    await db('call_events').insert({ call_sid: call.sid, type: 'callback', payload: { at: at.toISOString(), said: 'tomorrow', booked: true } });
    expect((await repo.inFlight(db, claim.campaignId, now())).campaign).toBe(1);
    await TwilioRestDouble.deliver(rest.statusCallbacks(call, 'completed', TOKEN, { answeredBy: 'human' }), origin);
    const c = await contact(claim.contactId);
    expect(c).toMatchObject({ state: 'retry-scheduled', last_outcome: 'callback', lease_expires_at: null });
    expect(new Date(c.next_attempt_at).getTime()).toBe(at.getTime());
    expect((await repo.inFlight(db, claim.campaignId, now())).campaign).toBe(0);
  });

  it('a callback that outruns the calls.create response records the CallSid and moves the contact', async () => {
    const campaignId = await makeCampaign(db);
    await addContacts(db, campaignId, 1);
    const claim = await claimOne(campaignId);
    await repo.beginSending(claim.attemptId, now(), async () => '+15550000001');
    const url = `${PUBLIC}/twilio/outbound/status?attemptId=${claim.attemptId}`;
    const params = { CallSid: `CA${randomBytes(16).toString('hex')}`, CallStatus: 'ringing', SequenceNumber: '1', AccountSid: SID };
    const [s] = await TwilioRestDouble.deliver([{ url, params, signature: signTwilioRequest(TOKEN, url, params) }], origin);
    expect(s).toBe(204);
    expect(await attempt(claim.attemptId)).toMatchObject({ call_sid: params.CallSid, status: 'ringing' });
    expect(await contact(claim.contactId)).toMatchObject({ state: 'in-progress' });
  });

  it('rejects a forged signature (403), a malformed body (400) and an unknown call (404)', async () => {
    const { call } = await placed();
    const [cb] = rest.statusCallbacks(call, 'completed', TOKEN);
    expect(await TwilioRestDouble.deliver([{ ...cb, signature: 'forged' }], origin)).toEqual([403]);
    const bad = { ...cb.params, CallStatus: 'exploded' };
    expect(await TwilioRestDouble.deliver([{ url: cb.url, params: bad, signature: signTwilioRequest(TOKEN, cb.url, bad) }], origin)).toEqual([400]);
    const url = `${PUBLIC}/twilio/outbound/status`;
    const unknown = { CallSid: 'CAunknown000000000000000000000000001', CallStatus: 'completed' };
    expect(await TwilioRestDouble.deliver([{ url, params: unknown, signature: signTwilioRequest(TOKEN, url, unknown) }], origin)).toEqual([404]);
  });
});
