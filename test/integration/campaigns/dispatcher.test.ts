import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { addContacts, makeCampaign, quiesceCampaigns } from '../../helpers/campaign-fixtures';
import { DispatchRepo } from '../../../src/db/dispatch';
import { Dispatcher, type Dialer } from '../../../src/campaigns/dispatcher';
import { decideRetry } from '../../../src/campaigns/retry';
import { DialSkipped } from '../../../src/campaigns/dialer';
import { DialPacer } from '../../../src/campaigns/pacing';
import Redis from 'ioredis';

/**
 * Two dispatchers (different owner ids) over one database, with a recording fake dialer that checks the ceilings at
 * dial time from the database and ends each call shortly after (as a terminal status callback would).
 */
let db: Knex;
let repo: DispatchRepo;
const T0 = new Date('2026-12-02T12:00:00Z');

beforeAll(async () => {
  db = await setupTestDb();
  repo = new DispatchRepo(db);
});
afterAll(async () => {
  await db('campaigns').where('id', 'like', 'cmp_%').update({ state: 'cancelled' });
  await db.destroy();
});
beforeEach(async () => {
  // Other tests' campaigns must not take global slots.
  await quiesceCampaigns(db);
});

/** Records dials; asserts at dial time that in-flight calls (from the DB) respect the ceilings. */
class RecordingDialer implements Dialer {
  readonly dialed: string[] = [];
  readonly owners = new Set<string | undefined>();
  readonly violations: string[] = [];
  private readonly ending = new Set<Promise<unknown>>();
  maxCampaign = new Map<string, number>();
  maxGlobal = 0;
  constructor(
    private readonly o: { now: () => Date; perCampaign: number; global: number; callMs: () => number; outcome?: (attemptId: string) => string },
    private readonly shared: { active: number; peak: number } = { active: 0, peak: 0 },
  ) {}
  async dial(attemptId: string, opts: { owner?: string } = {}): Promise<{ callSid: string }> {
    const now = this.o.now();
    const begun = await repo.beginSending(attemptId, now, async () => '+15550000001', opts.owner);
    if ('refused' in begun) throw new DialSkipped(begun.refused);
    const a = (await repo.attempt(attemptId))!;
    const n = await repo.inFlight(db, a.campaignId!, now);
    this.maxCampaign.set(a.campaignId!, Math.max(this.maxCampaign.get(a.campaignId!) ?? 0, n.campaign));
    this.maxGlobal = Math.max(this.maxGlobal, n.global);
    if (n.campaign > this.o.perCampaign) this.violations.push(`campaign ${n.campaign}`);
    if (n.global > this.o.global) this.violations.push(`global ${n.global}`);
    this.dialed.push(attemptId);
    this.owners.add(opts.owner);
    const sid = `CA${attemptId.replace(/-/g, '')}`;
    await repo.markInProgress(attemptId, sid, now, 3_600_000);
    const end = new Promise((r) => setTimeout(r, this.o.callMs())).then(() =>
      repo.settle(attemptId, { outcome: this.o.outcome?.(attemptId) ?? 'completed', status: 'completed', now: this.o.now() }, decideRetry),
    );
    this.ending.add(end);
    void end.finally(() => this.ending.delete(end));
    return { callSid: sid };
  }
  /** Waits until every call dialed so far has ended. */
  async drain(): Promise<void> {
    while (this.ending.size) await Promise.allSettled([...this.ending]);
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runUntil(ds: Dispatcher[], done: () => Promise<boolean>, maxTicks = 400): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    await Promise.all(ds.map((d) => d.tick()));
    if (await done()) return;
    await pause(5);
  }
  throw new Error('dispatch did not finish');
}

async function contactStates(campaignId: string): Promise<Record<string, number>> {
  const rows = await db('campaign_contacts').where({ campaign_id: campaignId }).groupBy('state').select('state').count({ n: '*' });
  return Object.fromEntries(rows.map((r: any) => [r.state, Number(r.n)]));
}

describe('Dispatcher', () => {
  it('two dispatchers never exceed maxConcurrent, dial each contact once, and complete the campaign', async () => {
    const now = () => T0;
    const campaignId = await makeCampaign(db, { maxConcurrent: 3 });
    const contacts = await addContacts(db, campaignId, 50);
    const dialer = new RecordingDialer({ now, perCampaign: 3, global: 100, callMs: () => 5 + Math.random() * 20 });
    const mk = (owner: string) => new Dispatcher({ repo, dialer, pacer: null, owner, leaseMs: 60_000, intervalMs: 1_000, globalMax: 100, now });
    const [d1, d2] = [mk('dispatcher-a'), mk('dispatcher-b')];
    await runUntil([d1, d2], async () => (await db('campaigns').where({ id: campaignId }).first()).state === 'completed');
    await d1.settled();
    await d2.settled();
    expect(dialer.violations).toEqual([]);
    expect(dialer.maxCampaign.get(campaignId)).toBe(3); // the ceiling was reached, never passed
    expect(dialer.dialed).toHaveLength(50);
    expect(new Set(dialer.dialed).size).toBe(50);
    const attempts = await db('call_attempts').where({ campaign_id: campaignId }).select('contact_id', 'attempt_no', 'call_sid');
    expect(attempts).toHaveLength(50);
    expect(new Set(attempts.map((a: any) => String(a.contact_id)))).toEqual(new Set(contacts));
    expect(attempts.every((a: any) => a.attempt_no === 1 && a.call_sid)).toBe(true);
    expect(await contactStates(campaignId)).toEqual({ done: 50 });
    const camp = await db('campaigns').where({ id: campaignId }).first();
    expect(camp.finished_at).not.toBeNull();
    expect(dialer.owners).toEqual(new Set(['dispatcher-a', 'dispatcher-b'])); // both took part
  });

  it('holds the global ceiling across two campaigns and two dispatchers', async () => {
    const now = () => T0;
    const a = await makeCampaign(db, { maxConcurrent: 3 });
    const b = await makeCampaign(db, { maxConcurrent: 3 });
    await addContacts(db, a, 15);
    await addContacts(db, b, 15);
    const dialer = new RecordingDialer({ now, perCampaign: 3, global: 4, callMs: () => 10 + Math.random() * 20 });
    const mk = (owner: string) => new Dispatcher({ repo, dialer, pacer: null, owner, leaseMs: 60_000, intervalMs: 1_000, globalMax: 4, now });
    await runUntil([mk('g-a'), mk('g-b')], async () => (await db('campaigns').whereIn('id', [a, b]).where({ state: 'completed' })).length === 2);
    await pause(50);
    expect(dialer.violations).toEqual([]);
    expect(dialer.maxGlobal).toBe(4);
    expect(dialer.dialed).toHaveLength(30);
    expect(new Set(dialer.dialed).size).toBe(30);
  });

  it('follows the retry ladder within the shared budget', async () => {
    let clock = T0.getTime();
    const now = () => new Date(clock);
    const campaignId = await makeCampaign(db, { maxConcurrent: 2 });
    const [contact] = await addContacts(db, campaignId, 1);
    const dialer = new RecordingDialer({ now, perCampaign: 2, global: 100, callMs: () => 1, outcome: () => 'busy' });
    const d = new Dispatcher({ repo, dialer, pacer: null, owner: 'ladder', leaseMs: 60_000, intervalMs: 1_000, globalMax: 100, now });
    const step = async () => {
      await d.tick();
      await d.settled();
      await dialer.drain();
    };
    await step();
    let c = await db('campaign_contacts').where({ id: contact }).first();
    expect(c.state).toBe('retry-scheduled');
    expect(new Date(c.next_attempt_at).getTime()).toBe(clock + 600_000); // busy ladder, first entry
    clock += 599_000;
    await step();
    expect(dialer.dialed).toHaveLength(1); // not due yet
    clock += 1_000;
    await step();
    c = await db('campaign_contacts').where({ id: contact }).first();
    expect(new Date(c.next_attempt_at).getTime()).toBe(clock + 1_200_000); // second entry
    clock += 1_200_000;
    await step();
    c = await db('campaign_contacts').where({ id: contact }).first();
    expect(c.state).toBe('failed'); // maxAttempts 3 used up
    expect(c.attempts).toBe(3);
    expect(dialer.dialed).toHaveLength(3);
  });

  it('defers contacts outside their window and dials them when it opens in every zone', async () => {
    let clock = new Date('2026-12-02T14:30:00Z').getTime(); // 09:30 New York, 06:30 Los Angeles
    const now = () => new Date(clock);
    const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as any, start: '09:00', end: '20:00', blackoutDates: [] };
    const campaignId = await makeCampaign(db, { maxConcurrent: 5, window });
    const [ny] = await addContacts(db, campaignId, 1, { timezones: ['America/New_York'] });
    const [both] = await addContacts(db, campaignId, 1, { timezones: ['America/New_York', 'America/Los_Angeles'] });
    const dialer = new RecordingDialer({ now, perCampaign: 5, global: 100, callMs: () => 1 });
    const d = new Dispatcher({ repo, dialer, pacer: null, owner: 'window', leaseMs: 60_000, intervalMs: 1_000, globalMax: 100, now });
    await d.tick();
    await d.settled();
    const dialedContacts = async () => (await db('call_attempts').where({ campaign_id: campaignId }).pluck('contact_id')).map(String);
    expect(await dialedContacts()).toEqual([ny]);
    const deferred = await db('campaign_contacts').where({ id: both }).first();
    expect(deferred.state).toBe('pending');
    expect(new Date(deferred.next_attempt_at).toISOString()).toBe('2026-12-02T17:00:00.000Z');
    clock = new Date('2026-12-02T17:00:00Z').getTime();
    await d.tick();
    await d.settled();
    expect((await dialedContacts()).sort()).toEqual([ny, both].sort());
  });

  it('recovers an expired claim: never-sent attempts are released, sent-but-unknown ones are not redialed blindly', async () => {
    let clock = T0.getTime();
    const now = () => new Date(clock);
    const campaignId = await makeCampaign(db, { maxConcurrent: 5 });
    const [never, unknown] = await addContacts(db, campaignId, 2);
    // Dispatcher A claims both, then "dies": one attempt was never handed to Twilio, the other crashed mid calls.create.
    const open = () => true;
    const { claims } = await repo.claim((await repo.runningCampaigns()).find((c) => c.id === campaignId)!, {
      owner: 'dead', leaseMs: 30_000, now: now(), globalMax: 100, max: 2, isOpen: open, nextOpening: () => null,
    });
    expect(claims.map((c) => c.contactId)).toEqual([never, unknown]);
    expect(await repo.beginSending(claims[1].attemptId, now(), async () => '+15550000001', 'dead')).toEqual({ from: '+15550000001' });
    // While the lease holds, B sees both slots taken and claims nothing.
    const dialer = new RecordingDialer({ now, perCampaign: 5, global: 100, callMs: () => 1 });
    const b = new Dispatcher({ repo, dialer, pacer: null, owner: 'alive', leaseMs: 30_000, intervalMs: 1_000, globalMax: 100, now });
    clock += 29_000;
    expect((await b.tick()).claimed).toBe(0);
    clock += 1_000; // lease expired
    const r = await b.tick();
    await b.settled();
    expect(r.recovered).toBe(2);
    // The never-sent contact was dialed again as attempt 1 (the dead claim was refunded).
    const neverAttempts = await db('call_attempts').where({ contact_id: never }).select('attempt_no', 'call_sid');
    expect(neverAttempts).toEqual([{ attempt_no: 1, call_sid: expect.any(String) }]);
    // The unknown one: attempt marked unknown, retried only after the safety delay.
    const u = await db('call_attempts').where({ id: claims[1].attemptId }).first();
    expect(u.status).toBe('unknown');
    expect(u.outcome).toBe('unknown');
    const uc = await db('campaign_contacts').where({ id: unknown }).first();
    expect(uc.state).toBe('retry-scheduled');
    expect(new Date(uc.next_attempt_at).getTime()).toBeGreaterThanOrEqual(clock + 900_000);
    // The dead dispatcher's late dial of its expired claim is refused.
    expect(await repo.beginSending(claims[0].attemptId, now(), async () => '+15550000001', 'dead')).toEqual({ refused: 'claim_lost' });
    expect(dialer.dialed).toHaveLength(1);
  });

  it('spaces dials 1/cps apart across two dispatchers through the Redis pacer, and stops claiming past the next tick', async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const prefix = `test-dispatch-${process.pid}-${Date.now()}`;
    try {
      const now = () => T0;
      const campaignId = await makeCampaign(db, { maxConcurrent: 50, cps: 5 });
      await addContacts(db, campaignId, 20);
      const waits: number[] = [];
      const inner = new RecordingDialer({ now, perCampaign: 50, global: 100, callMs: () => 1 });
      // The pacer spaces dials on Redis's clock (real time): the dispatchers really wait, and each dial's real instant is kept.
      const dialedAt: number[] = [];
      const dialer: Dialer = { dial: (id, o) => (dialedAt.push(performance.now()), inner.dial(id, o)) };
      const sleep = (ms: number) => (waits.push(ms), new Promise<void>((r) => setTimeout(r, ms)));
      const mk = (owner: string) => new Dispatcher({ repo, dialer, pacer: new DialPacer(redis, prefix), owner, leaseMs: 60_000, intervalMs: 1_000, globalMax: 100, now, sleep });
      const ds = [mk('pace-a'), mk('pace-b')];
      const claimed = (await Promise.all(ds.map((d) => d.tick()))).reduce((a, r) => a + r.claimed, 0);
      await Promise.all(ds.map((d) => d.settled()));
      await inner.drain();
      // 200 ms apart in real time whichever dispatcher dialed: on average (the slots are exact on Redis's clock), and
      // each gap give or take the jitter of a timer and a Redis round trip on a busy host.
      const sorted = [...dialedAt].sort((a, b) => a - b);
      sorted.slice(1).forEach((t, i) => expect([i, t - sorted[i] >= 150]).toEqual([i, true]));
      expect((sorted[sorted.length - 1] - sorted[0]) / (sorted.length - 1)).toBeGreaterThanOrEqual(190);
      // Claiming stops once a slot lies past the next tick (1 s): each dispatcher stops after reserving its first slot
      // past it, and the two interleave on one pacer, so no wait is longer than the tick plus two spacings.
      expect(Math.max(...waits)).toBeLessThanOrEqual(1_400);
      expect(claimed).toBeGreaterThanOrEqual(7); // slots 0 … 1200
      expect(inner.dialed).toHaveLength(claimed);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('stops cleanly', async () => {
    const d = new Dispatcher({ repo, dialer: { dial: async () => ({ callSid: 'CAx' }) }, pacer: null, owner: 'stop', leaseMs: 60_000, intervalMs: 20, globalMax: 1, now: () => T0 });
    d.start();
    await pause(60);
    await d.stop();
  });
});
