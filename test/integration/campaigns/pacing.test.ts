import Redis from 'ioredis';
import { DialPacer, dialIntervalMs } from '../../../src/campaigns/pacing';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-dispatch-pacing-${process.pid}-${Date.now()}`;
let a: Redis;
let b: Redis;

beforeAll(() => {
  a = new Redis(REDIS_URL);
  b = new Redis(REDIS_URL);
});
afterAll(async () => {
  const keys = await a.keys(`${prefix}:*`);
  if (keys.length) await a.del(...keys);
  a.disconnect();
  b.disconnect();
});

/** Real time passes (Redis's clock, which the pacer reads): the pacer's spacing is measured on it, not asserted after it. */
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DialPacer', () => {
  it('hands two processes distinct slots spaced 1/cps apart', async () => {
    const p1 = new DialPacer(a, prefix);
    const p2 = new DialPacer(b, prefix);
    const now = 1_800_000_000_000;
    const slots = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? p1 : p2).reserve('c1', 5, now)));
    // Each slot is `now` + its delay on Redis's clock; the requests arrive a few ms apart, so each lies up to that early.
    const sorted = slots.sort((x, y) => x - y);
    sorted.forEach((slot, i) => expect(now + i * 200 - slot).toBeGreaterThanOrEqual(0));
    sorted.forEach((slot, i) => expect(now + i * 200 - slot).toBeLessThan(150));
  });

  it('spaces dials by Redis TIME: two hosts whose clocks differ by 7 s still get slots 1/cps apart in real time', async () => {
    const skew = 7_000;
    const p1 = new DialPacer(a, prefix);
    const p2 = new DialPacer(b, prefix);
    const trueNow = 1_800_000_000_000;
    // Host 2's clock runs 7 s ahead; map each slot back to true time by removing its host's skew.
    const slots = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (i % 2 ? (await p2.reserve('skew', 5, trueNow + skew)) - skew : await p1.reserve('skew', 5, trueNow))),
    );
    const sorted = slots.sort((x, y) => x - y);
    const gaps = sorted.slice(1).map((t, i) => t - sorted[i]);
    // 200 ms apart, give or take the few ms between the requests reaching Redis (with local clocks: 7 s and 0 ms gaps).
    for (const g of gaps) expect(Math.abs(g - 200)).toBeLessThan(50);
    expect(sorted[0]).toBeLessThanOrEqual(trueNow);
  });

  it('does not bank unused time: a slot is never earlier than now, and a late ask gets no wait', async () => {
    const p = new DialPacer(a, prefix);
    expect(await p.reserve('c2', 1, 1_000)).toBe(1_000);
    const second = await p.reserve('c2', 1, 1_000);
    expect(second).toBeGreaterThan(1_900);
    expect(second).toBeLessThanOrEqual(2_000);
    expect(await p.reserve('c3', 1, 1_000)).toBe(1_000); // campaigns are independent
    const fast = new DialPacer(b, prefix);
    expect(await fast.reserve('c4', 50, 5_000)).toBe(5_000); // 20 ms apart
    await pause(60); // longer than the interval, on Redis's clock
    expect(await fast.reserve('c4', 50, 5_000)).toBe(5_000);
  });

  it('computes the interval from cps', () => {
    expect(dialIntervalMs(1)).toBe(1_000);
    expect(dialIntervalMs(5)).toBe(200);
    expect(dialIntervalMs(0.5)).toBe(2_000);
  });
});
