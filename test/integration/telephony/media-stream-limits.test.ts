import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import pino from 'pino';
import { attachMediaStreamServer, type MediaStreamServerOptions, type StreamHandler } from '../../../src/telephony/media-stream-server';
import type { MediaTransport } from '../../../src/engine/playout';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics';
import { deferred } from '../../helpers/async';

const TOKEN = 'test-token';
const PATH = '/twilio/media-stream';
const WSS = `wss://voice.example.com${PATH}`;

interface Call { transport: MediaTransport; media: number; ended: string[] }

/** A Media Streams server on a real HTTP server, with an injected clock and a per-test handler hook. */
async function startServer(opts: Partial<MediaStreamServerOptions> & { gate?: Promise<void>; onStart?: (t: MediaTransport) => void } = {}) {
  const server = http.createServer();
  const metrics = createMetrics({ defaultMetrics: false });
  const calls = new Map<string, Call>();
  const clock = { t: 0 };
  const media = attachMediaStreamServer(server, {
    path: PATH,
    authToken: TOKEN,
    publicBaseUrl: 'https://voice.example.com',
    logger: pino({ level: 'silent' }),
    now: () => clock.t,
    metrics,
    ...opts,
    createHandler: async (start, transport): Promise<StreamHandler> => {
      const call: Call = { transport, media: 0, ended: [] };
      calls.set(start.start.callSid, call);
      await opts.gate;
      opts.onStart?.(transport);
      return { onMedia: () => void call.media++, onDtmf: () => {}, onMark: () => {}, onEnd: (r) => void call.ended.push(r) };
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const connect = () =>
    new Promise<{ ws: WebSocket; messages: any[]; closed: Promise<{ code: number; reason: string }> }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}`, { headers: { 'x-twilio-signature': signTwilioRequest(TOKEN, WSS, {}) } });
      const messages: any[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
      ws.once('open', () => resolve({ ws, messages, closed }));
      ws.once('error', reject);
    });
  return {
    calls,
    clock,
    metrics,
    connect,
    stop: async () => {
      await media.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const startFrame = (callSid: string) =>
  JSON.stringify({
    event: 'start', sequenceNumber: '1', streamSid: `MZ${callSid}`,
    start: { accountSid: 'AC1', streamSid: `MZ${callSid}`, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} },
  });
const mediaFrame = (callSid: string, seq: number, bytes = 160) =>
  JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: `MZ${callSid}`, media: { track: 'inbound', chunk: String(seq - 1), timestamp: String((seq - 2) * 20), payload: Buffer.alloc(bytes, 0xff).toString('base64') } });
/**
 * Resolves once the server has handled every frame sent before (ws answers pings in order), or the socket closed.
 * The injected clock is moved only between round trips, so the server sees it as the test means it.
 */
const roundTrip = (ws: WebSocket) =>
  new Promise<void>((r) => {
    if (ws.readyState !== WebSocket.OPEN) return r();
    const done = () => {
      ws.off('pong', done).off('close', done);
      r();
    };
    ws.on('pong', done).on('close', done);
    ws.ping();
  });
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const closedBy = async (metrics: Metrics) => Object.fromEntries((await metrics.streamsClosed.get()).values.map((v) => [v.labels.reason, v.value]));

describe('Media Streams edge limits', () => {
  it('audio in real time (by the injected clock) streams on, even with a catch-up burst', async () => {
    const s = await startServer({ maxAheadMs: 500 });
    try {
      const c = await s.connect();
      c.ws.send(startFrame('CArt'));
      await roundTrip(c.ws);
      // 10 s of audio at real time, then a 2 s network stall whose frames arrive at once.
      for (let i = 0; i < 500; i++) {
        s.clock.t += 20;
        c.ws.send(mediaFrame('CArt', i + 2));
      }
      s.clock.t += 2000;
      for (let i = 500; i < 600; i++) c.ws.send(mediaFrame('CArt', i + 2));
      await roundTrip(c.ws);
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(s.calls.get('CArt')!.media).toBe(600);
      c.ws.close();
    } finally {
      await s.stop();
    }
  });

  it('a peer sending 10x real time is closed with 1008 once it is maxAheadMs ahead, and counted', async () => {
    const s = await startServer({ maxAheadMs: 3000 });
    try {
      const c = await s.connect();
      c.ws.send(startFrame('CAfast'));
      await roundTrip(c.ws);
      let sent = 0;
      const closed = c.closed.then((v) => ({ ...v, sent }));
      // 10x: 200 ms of audio per 20 ms of clock.
      for (let i = 0; i < 400 && c.ws.readyState === WebSocket.OPEN; i++) {
        s.clock.t += 20;
        for (let k = 0; k < 10; k++) c.ws.send(mediaFrame('CAfast', 2 + sent++));
        await roundTrip(c.ws);
      }
      const c2 = await closed;
      expect(c2.code).toBe(1008);
      expect(c2.reason).toMatch(/media arriving faster than real time/);
      // Frame n at step i (clock 20·i ms) is 20·(n − i) ms ahead: over 3000 ms first at step 17, frame 168.
      expect(s.calls.get('CAfast')!.media).toBe(167);
      expect(s.calls.get('CAfast')!.ended[0]).toMatch(/faster than real time/);
      expect(await closedBy(s.metrics)).toEqual({ ahead_of_real_time: 1 });
    } finally {
      await s.stop();
    }
  });

  it('a single frame of ~1 MiB is refused at once', async () => {
    const s = await startServer();
    try {
      const c = await s.connect();
      c.ws.send(startFrame('CAbig'));
      c.ws.send(mediaFrame('CAbig', 2, 780_000)); // 1.04 MB of JSON, under maxPayload (1 MiB): 97.5 s of audio
      expect(await c.closed).toEqual({ code: 1008, reason: expect.stringMatching(/faster than real time/) });
      expect(s.calls.get('CAbig')!.media).toBe(0);
      expect(await closedBy(s.metrics)).toEqual({ ahead_of_real_time: 1 });
    } finally {
      await s.stop();
    }
  });

  it('frames queued while the call is being set up are capped (queue_full); the late handler is still ended', async () => {
    const gate = deferred();
    const s = await startServer({ gate: gate.promise, maxEarlyFrames: 50, maxEarlyMs: 100_000 });
    try {
      const c = await s.connect();
      c.ws.send(startFrame('CAslow'));
      await roundTrip(c.ws);
      for (let i = 0; i < 60; i++) {
        s.clock.t += 20;
        c.ws.send(mediaFrame('CAslow', i + 2));
      }
      const closed = await c.closed;
      expect(closed.code).toBe(1008);
      expect(closed.reason).toMatch(/too many frames before the call was ready \(51 frames/);
      gate.resolve();
      await until(() => s.calls.get('CAslow')!.ended.length === 1);
      expect(s.calls.get('CAslow')!.ended[0]).toMatch(/protocol error: too many frames/);
      expect(s.calls.get('CAslow')!.media).toBe(0);
      expect(await closedBy(s.metrics)).toEqual({ queue_full: 1 });
    } finally {
      await s.stop();
    }
  });

  it('the early queue is also capped by queued audio (ms) and delivers in order when the handler is ready', async () => {
    const gate = deferred();
    const s = await startServer({ gate: gate.promise, maxEarlyMs: 1000, maxAheadMs: 60_000 });
    try {
      const ok = await s.connect();
      ok.ws.send(startFrame('CAq1'));
      for (let i = 0; i < 50; i++) ok.ws.send(mediaFrame('CAq1', i + 2)); // exactly 1000 ms: accepted
      await roundTrip(ok.ws);
      const over = await s.connect();
      over.ws.send(startFrame('CAq2'));
      for (let i = 0; i < 51; i++) over.ws.send(mediaFrame('CAq2', i + 2));
      expect((await over.closed).reason).toMatch(/too many frames before the call was ready \(51 frames, 1020 ms\)/);
      gate.resolve();
      await until(() => s.calls.get('CAq1')!.media === 50);
      expect(ok.ws.readyState).toBe(WebSocket.OPEN);
      ok.ws.close();
    } finally {
      await s.stop();
    }
  });

  it('coalesces outbound media of one turn into one message, in call order with marks and clears', async () => {
    const s = await startServer({
      onStart: (t) => {
        for (let i = 0; i < 5; i++) t.sendMedia(new Uint8Array(160).fill(i));
        t.sendMark('m1');
        for (let i = 5; i < 8; i++) t.sendMedia(new Uint8Array(160).fill(i));
        t.sendClear();
        t.sendMedia(new Uint8Array(80).fill(9));
      },
    });
    try {
      const c = await s.connect();
      c.ws.send(startFrame('CAout'));
      await until(() => c.messages.length >= 5);
      await roundTrip(c.ws);
      const shape = c.messages.map((m) => (m.event === 'media' ? [...new Set(Buffer.from(m.media.payload, 'base64'))].join(',') + `x${Buffer.from(m.media.payload, 'base64').length}` : m.event));
      expect(shape).toEqual(['0,1,2,3,4x800', 'mark', '5,6,7x480', 'clear', '9x80']);
      c.ws.close();
    } finally {
      await s.stop();
    }
  });

  it('a peer that stops reading is closed as a slow consumer with bounded memory', async () => {
    let pump: NodeJS.Timeout | undefined;
    const s = await startServer({
      outboundHighWaterBytes: 64 * 1024,
      outboundMaxHeldBytes: 512 * 1024,
      onStart: (t) => {
        // 1 s of audio per tick, far more than a phone call, to fill the kernel buffers quickly.
        pump = setInterval(() => {
          for (let i = 0; i < 50; i++) t.sendMedia(new Uint8Array(160).fill(0x7f));
        }, 1);
      },
    });
    try {
      const c = await s.connect();
      (c.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // the peer stops reading
      c.ws.send(startFrame('CAstuck'));
      await until(() => (s.calls.get('CAstuck')?.ended.length ?? 0) === 1, 30_000);
      expect(s.calls.get('CAstuck')!.ended[0]).toMatch(/peer is not reading/);
      expect(await closedBy(s.metrics)).toEqual({ slow_consumer: 1 });
      c.ws.terminate();
    } finally {
      clearInterval(pump);
      await s.stop();
    }
  });

  it('counts idle and protocol closes', async () => {
    const s = await startServer({ idleTimeoutMs: 200 });
    try {
      const a = await s.connect();
      a.ws.send(startFrame('CAidle'));
      const b = await s.connect();
      b.ws.send('{"event":');
      expect((await b.closed).code).toBe(1008);
      expect((await a.closed).reason).toBe('no frames for 200 ms');
      expect(await closedBy(s.metrics)).toEqual({ idle: 1, protocol: 1 });
    } finally {
      await s.stop();
    }
  });
});
