import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { Redis } from 'ioredis';
import { WebCallRegistry, WEB_CALL_HANGUP } from '../../../src/telephony/web-calls';
import { upgradeRoutes } from '../../../src/telephony/upgrade-routes';
import { WebCallSlots } from '../../../src/http/web-call/slots';
import { ProviderError } from '../../../src/providers/errors';
import type { CallControl } from '../../../src/domain/ports';
import { rejection } from '../../helpers/async';

/** A real WebSocket pair through an upgradeRoutes route: the server side is handed to `onServer`. */
async function socketPair(): Promise<{ client: WebSocket; server: WebSocket; close(): Promise<void> }> {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const serverSide = new Promise<WebSocket>((resolve) => upgradeRoutes(httpServer).add('/ws', (req, socket, head) => wss.handleUpgrade(req, socket, head, resolve)));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const port = (httpServer.address() as AddressInfo).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const server = await serverSide;
  await new Promise((r) => (client.readyState === client.OPEN ? r(null) : client.once('open', r)));
  return {
    client,
    server,
    close: async () => {
      client.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => httpServer.close(r));
    },
  };
}

describe('web call registry (call control without Twilio)', () => {
  const phoneCalls: string[] = [];
  const phone: CallControl = {
    transfer: async (callSid, target) => void phoneCalls.push(`transfer ${callSid} ${target}`),
    hangup: async (callSid) => void phoneCalls.push(`hangup ${callSid}`),
  };

  it("hangs a web call up by closing its socket, refuses its transfer, and leaves phone calls to Twilio's control", async () => {
    const pair = await socketPair();
    try {
      const registry = new WebCallRegistry();
      registry.add('WCweb', pair.server);
      const control = registry.callControl(phone);
      const received: string[] = [];
      pair.client.on('message', (d) => received.push(d.toString()));
      registry.onTurn('WCweb', { seq: 2, role: 'caller', text: 'hello', language: 'en', startMs: 100, endMs: 900 });
      registry.onTurn('CAphone', { seq: 1, role: 'caller', text: 'not a web call', language: 'en', startMs: 0, endMs: 1 });

      const err = await rejection(control.transfer('WCweb', '+15550100'));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).retryable).toBe(false);

      const closed = new Promise<[number, string]>((r) => pair.client.once('close', (code, reason) => r([code, reason.toString()])));
      await control.hangup('WCweb');
      expect(await closed).toEqual([WEB_CALL_HANGUP.code, WEB_CALL_HANGUP.reason]);
      expect(received.map((m) => JSON.parse(m))).toEqual([{ event: 'transcript', callSid: 'WCweb', turn: { seq: 2, role: 'caller', text: 'hello', language: 'en', startMs: 100, endMs: 900 } }]);

      await control.transfer('CAphone', '+15550100');
      await control.hangup('CAphone');
      expect(phoneCalls).toEqual(['transfer CAphone +15550100', 'hangup CAphone']);
    } finally {
      await pair.close();
    }
  });

  it('answers 404 for an upgrade on a path no module registered', async () => {
    const pair = await socketPair();
    try {
      const url = pair.client.url.replace('/ws', '/elsewhere');
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('opened')));
      });
      expect(status).toBe(404);
    } finally {
      await pair.close();
    }
  });
});

describe('web call slots (Redis)', () => {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const prefix = `test-webcall-slots-${process.pid}-${Date.now().toString(36)}`;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(keys);
    redis.disconnect();
  });

  it('holds at most perOwner calls per owner across instances, frees a slot on release, and expires with a TTL', async () => {
    // Two instances sharing Redis, as two servers would.
    const a = new WebCallSlots({ redis, keyPrefix: prefix, perOwner: 2 });
    const b = new WebCallSlots({ redis, keyPrefix: prefix, perOwner: 2 });
    const s1 = await a.acquire('user-1', 'WC1');
    const s2 = await b.acquire('user-1', 'WC2');
    expect(s1).not.toBeNull();
    expect(s2).not.toBeNull();
    expect(await a.acquire('user-1', 'WC3')).toBeNull();
    expect(await b.acquire('user-2', 'WC4')).not.toBeNull(); // another owner has its own slots
    await s1!.release();
    await s1!.release(); // idempotent
    const s3 = await b.acquire('user-1', 'WC5');
    expect(s3).not.toBeNull();
    expect(await redis.zrange(`${prefix}:user-1`, '0', '-1')).toEqual(expect.arrayContaining(['WC2', 'WC5']));
    // A crashed instance never releases: the key carries the TTL, and each member its expiry score.
    const ttl = await redis.pttl(`${prefix}:user-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const [, expiry] = await redis.zrange(`${prefix}:user-1`, '0', '0', 'WITHSCORES');
    const [sec] = await redis.time();
    expect(Number(expiry) - Number(sec) * 1000).toBeLessThanOrEqual(60_000 + 1000);
    await Promise.all([s2!.release(), s3!.release()]);
    expect(await redis.zcard(`${prefix}:user-1`)).toBe(0);
  });

  it('an expired slot (past its score) no longer counts', async () => {
    const slots = new WebCallSlots({ redis, keyPrefix: prefix, perOwner: 1 });
    // A slot left behind by a crashed instance: its expiry score is already in the past.
    const [sec] = await redis.time();
    await redis.zadd(`${prefix}:user-3`, Number(sec) * 1000 - 1, 'WCstale');
    const s = await slots.acquire('user-3', 'WCnew');
    expect(s).not.toBeNull();
    expect(await redis.zrange(`${prefix}:user-3`, '0', '-1')).toEqual(['WCnew']);
    await s!.release();
  });
});
