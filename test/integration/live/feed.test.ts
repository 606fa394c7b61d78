import { Redis } from 'ioredis';
import pino from 'pino';
import { LiveFeed } from '../../../src/live/feed';
import type { CallStore } from '../../../src/domain/ports';
import { waitFor } from '../../helpers/async';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });

/** The live feed's Redis snapshot: bounded turn lists, per-instance heartbeats, a crashed instance's calls gone. */
describe('LiveFeed snapshot', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test-livefeed-${process.pid}-${Date.now().toString(36)}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(keys);
    redis.disconnect();
  });
  const call = (callSid: string) => ({ callSid, agentId: 'support', direction: 'inbound', from: '+14155550100', to: '+18005550199' });
  const turn = (i: number) => ({ role: 'caller' as const, text: `turn ${i}`, language: 'en', startMs: i * 1000, endMs: i * 1000 + 500 });

  it('keeps the last N turns of each call written through the store; leaves out calls of an instance without heartbeat and ends them once (sweep)', async () => {
    const a = new LiveFeed({ redis, prefix, instanceId: 'A', logger: silent, turnsKept: 3 });
    const b = new LiveFeed({ redis, prefix, instanceId: 'B', logger: silent });
    await Promise.all([a.start(), b.start()]);
    let seq = 0;
    const inner: CallStore = { addTurn: async () => ++seq, addEvent: async () => undefined, finish: async () => undefined, setTransfer: async () => undefined, setEndReason: async () => undefined, addUsage: async () => undefined };
    const failing: CallStore = { ...inner, addTurn: async () => Promise.reject(new Error('db down')) };
    a.started(call('CA-a'), new Date('2026-12-02T10:00:00Z'));
    b.started(call('CA-b'), new Date('2026-12-02T10:00:01Z'));
    const store = a.store(inner);
    for (let i = 1; i <= 5; i++) expect(await store.addTurn('CA-a', turn(i))).toBe(i);
    await expect(a.store(failing).addTurn('CA-a', turn(6))).rejects.toThrow('db down'); // not published
    const snap = await waitFor('five turns written', async () => {
      const s = await b.snapshot();
      return s.length === 2 && s[0].turns.at(-1)?.seq === 5 ? s : null;
    });
    expect(snap.map((c) => [c.callSid, c.instanceId, c.turns.map((t) => t.seq)])).toEqual([
      ['CA-a', 'A', [3, 4, 5]],
      ['CA-b', 'B', []],
    ]);
    expect(await b.ownerOf('CA-a')).toBe('A');

    const sub = redis.duplicate();
    const published: string[] = [];
    const events = b.subscribe(sub, (_type, raw) => published.push(raw));
    await events.ready();
    await a.close(); // as if A crashed: its heartbeat is gone
    expect(await b.ownerOf('CA-a')).toBeNull();
    expect((await b.snapshot()).map((c) => c.callSid)).toEqual(['CA-b']);
    // Two live instances sweep at once: the lost call is ended exactly once.
    const c = new LiveFeed({ redis, prefix, instanceId: 'C', logger: silent });
    expect((await Promise.all([b.sweep(), c.sweep()])).reduce((x, y) => x + y)).toBe(1);
    await waitFor('call.ended published', async () => published.length > 0);
    expect(published.map((p) => JSON.parse(p))).toEqual([{ type: 'call.ended', callSid: 'CA-a', reason: 'instance lost', endedAt: expect.any(String) }]);
    expect(await redis.hexists(`${prefix}:live:calls`, 'CA-a')).toBe(0);
    await waitFor('turns deleted', async () => !(await redis.exists(`${prefix}:live:turns:CA-a`)));
    await events.close();
    sub.disconnect();
    b.ended('CA-b', 'stop');
    await waitFor('ended call removed', async () => (await b.snapshot()).length === 0);
    await b.close();
  });
});
