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

describe('DialPacer', () => {
  it('hands two processes distinct slots spaced 1/cps apart', async () => {
    const p1 = new DialPacer(a, prefix);
    const p2 = new DialPacer(b, prefix);
    const now = 1_800_000_000_000;
    const slots = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? p1 : p2).reserve('c1', 5, now)));
    expect(slots.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => now + i * 200));
  });

  it('does not bank unused time: a slot is never earlier than now', async () => {
    const p = new DialPacer(a, prefix);
    expect(await p.reserve('c2', 1, 1_000)).toBe(1_000);
    expect(await p.reserve('c2', 1, 1_000)).toBe(2_000);
    expect(await p.reserve('c2', 1, 10_000)).toBe(10_000);
    expect(await p.reserve('c3', 1, 1_000)).toBe(1_000); // campaigns are independent
  });

  it('computes the interval from cps', () => {
    expect(dialIntervalMs(1)).toBe(1_000);
    expect(dialIntervalMs(5)).toBe(200);
    expect(dialIntervalMs(0.5)).toBe(2_000);
  });
});
