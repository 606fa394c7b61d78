import { Redis } from 'ioredis';
import pino from 'pino';
import { LiveCommands } from '../../../src/live/commands';
import { ListenRelay, ListenTaps, TRACK, type ListenClient } from '../../../src/live/listen';
import { LiveStreamHub, type StreamClient } from '../../../src/live/stream';
import { waitFor } from '../../helpers/async';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
const frame = (n: number) => Uint8Array.from({ length: 160 }, (_, i) => (n + i) & 0xff);

/** Listen-in's owner taps and listener relay on the real Redis, and the SSE hub's bounds. */
describe('listen-in over Redis', () => {
  const conns: Redis[] = [];
  const redis = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    conns.push(r);
    return r;
  };
  const prefix = `test-live-${process.pid}-${Date.now().toString(36)}`;
  afterAll(() => conns.forEach((c) => c.disconnect()));

  /** Every message on the call's audio channel, as received by a plain subscriber. */
  const capture = async (callSid: string) => {
    const sub = redis();
    const got: Buffer[] = [];
    sub.on('messageBuffer', (_ch: Buffer, m: Buffer) => got.push(m));
    await sub.subscribe(`${prefix}:live:audio:${callSid}`);
    return got;
  };

  it('publishes nothing without a lease (no publish call at all), the tracks while leased, nothing once it expired or was withdrawn', async () => {
    const publisher = redis();
    const publish = jest.spyOn(publisher, 'publish');
    let now = 1_000;
    const taps = new ListenTaps({ publisher, prefix, logger: silent, now: () => now });
    const tap = taps.open('CA1');
    const got = await capture('CA1');
    for (let i = 0; i < 50; i++) tap.onInbound(frame(i));
    tap.onOutbound(frame(99));
    tap.onClear();
    expect(publish).not.toHaveBeenCalled();

    taps.lease('CA1', 'listener-1', 5_000);
    tap.onInbound(frame(1));
    tap.onOutbound(frame(2));
    tap.onClear();
    await waitFor('three audio messages', async () => got.length === 3);
    expect(got).toEqual([Buffer.from([TRACK.caller, ...frame(1)]), Buffer.from([TRACK.agent, ...frame(2)]), Buffer.from([TRACK.clear])]);

    now += 5_001; // lease expired (the listener stopped renewing)
    tap.onInbound(frame(3));
    taps.lease('CA1', 'listener-2', 5_000);
    taps.lease('CA1', 'listener-2', 0); // unlisten
    tap.onInbound(frame(4));
    tap.close();
    expect(publish).toHaveBeenCalledTimes(3);
    taps.lease('CA1', 'listener-1', 5_000); // after close: ignored
    expect(publish).toHaveBeenCalledTimes(3);
  });

  it('relays one call to several local listeners; a listener that does not read is closed (1008); the end closes the others (1000)', async () => {
    const publisher = redis();
    const owner = new ListenTaps({ publisher, prefix, logger: silent });
    const tap = owner.open('CA2');
    const ownerCommands = LiveCommands.start({ publisher, subscriber: redis(), prefix, instanceId: 'owner', logger: silent, session: () => undefined, onListen: (sid, from, ms) => owner.lease(sid, from, ms) });
    const listenerSub = redis();
    const commands = LiveCommands.start({ publisher, subscriber: listenerSub, prefix, instanceId: 'listener', logger: silent, session: () => undefined, onListen: () => undefined });
    await Promise.all([ownerCommands.ready(), commands.ready()]);
    const relay = new ListenRelay({ subscriber: listenerSub, prefix, instanceId: 'listener', commands, ownerOf: async (sid) => (sid === 'CA2' ? 'owner' : null), logger: silent, maxBufferedBytes: 1_000 });
    const client = (buffered: number) => {
      const c = { frames: [] as Buffer[], closed: null as [number, string] | null, bufferedAmount: buffered, send: (f: Buffer) => void c.frames.push(f), close: (code: number, reason: string) => void (c.closed = [code, reason]) };
      return c satisfies ListenClient;
    };
    expect(await relay.join('CA-unknown', client(0))).toBeNull();
    const reader = client(0);
    const stuck = client(5_000);
    await relay.join('CA2', reader);
    await relay.join('CA2', stuck);
    await waitFor('relayed audio', async () => (tap.onInbound(frame(7)), reader.frames.length > 0));
    expect(reader.frames[0]).toEqual(Buffer.from([TRACK.caller, ...frame(7)]));
    expect(stuck.frames).toEqual([]);
    expect(stuck.closed).toEqual([1008, 'listener too slow: audio dropped']);
    tap.close();
    await waitFor('end of call', async () => reader.closed !== null);
    expect(reader.closed).toEqual([1000, 'call ended']);
    relay.close();
    await Promise.all([commands.close(), ownerCommands.close()]);
  });
});

describe('LiveStreamHub', () => {
  afterEach(() => jest.useRealTimers());

  it('frames events as SSE, pings every heartbeat, and drops a client whose output is not flushed', () => {
    jest.useFakeTimers();
    const hub = new LiveStreamHub({ heartbeatMs: 15_000, maxPendingBytes: 100 });
    const make = () => {
      const c = { chunks: [] as string[], pendingBytes: 0, closed: false, write: (s: string) => void c.chunks.push(s), close: () => void (c.closed = true) };
      return c satisfies StreamClient;
    };
    const fast = make();
    const slow = make();
    hub.add(fast);
    const removeSlow = hub.add(slow);
    hub.publish('call.ended', '{"type":"call.ended","callSid":"CA1"}');
    expect(fast.chunks.slice(1)).toEqual(['event: call.ended\ndata: {"type":"call.ended","callSid":"CA1"}\n\n']);
    jest.advanceTimersByTime(15_000);
    expect(fast.chunks.at(-1)).toBe(': ping\n\n');
    slow.pendingBytes = 101;
    hub.publish('call.started', '{}');
    expect(slow.closed).toBe(true);
    expect(hub.size).toBe(1);
    removeSlow();
    hub.close();
    expect(fast.closed).toBe(true);
  });
});
