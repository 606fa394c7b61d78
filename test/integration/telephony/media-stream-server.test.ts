import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import pino from 'pino';
import { attachMediaStreamServer, type StreamHandler } from '../../../src/telephony/media-stream-server';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { ProtocolError } from '../../../src/telephony/protocol';

const TOKEN = 'test-token';
const PUBLIC = 'https://voice.example.com';
const PATH = '/twilio/media-stream';
const WSS = `wss://voice.example.com${PATH}`;

interface Seen { media: number[]; dtmf: string[]; marks: string[]; ended: string[] }

describe('Media Streams WebSocket server', () => {
  let server: http.Server;
  let port: number;
  let close: () => Promise<void>;
  const sessions = new Map<string, Seen>();

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    const media = attachMediaStreamServer(server, {
      path: PATH,
      authToken: TOKEN,
      publicBaseUrl: PUBLIC,
      logger: pino({ level: 'silent' }),
      idleTimeoutMs: 400,
      createHandler: async (start, transport): Promise<StreamHandler> => {
        if (start.start.customParameters.refuse) throw new ProtocolError('no such call');
        if (start.start.customParameters.crash) throw new Error('insert into "calls" values ($1) - connect ECONNREFUSED 10.0.0.7:5432');
        const seen: Seen = { media: [], dtmf: [], marks: [], ended: [] };
        sessions.set(start.start.callSid, seen);
        transport.sendMedia(new Uint8Array([0xff, 0x7f]));
        transport.sendMark('greeting');
        return {
          onMedia: (ev) => seen.media.push(ev.mulaw.length),
          onDtmf: (d) => seen.dtmf.push(d),
          onMark: (n) => seen.marks.push(n),
          onEnd: (reason) => void seen.ended.push(reason),
        };
      },
    });
    close = media.close;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  function connect(signature: string | null = signTwilioRequest(TOKEN, WSS, {})): Promise<{ ws: WebSocket; messages: any[]; closed: Promise<{ code: number; reason: string }> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}`, { headers: signature ? { 'x-twilio-signature': signature } : {} });
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, messages, closed }));
      ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
      ws.once('error', reject);
    });
  }

  const startFrame = (callSid: string, extra: Record<string, string> = {}) =>
    JSON.stringify({
      event: 'start', sequenceNumber: '1', streamSid: `MZ${callSid}`,
      start: { accountSid: 'AC1', streamSid: `MZ${callSid}`, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: extra },
    });
  const media = (callSid: string, seq: number, bytes: number) =>
    JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: `MZ${callSid}`, media: { track: 'inbound', chunk: String(seq - 1), timestamp: String((seq - 2) * 20), payload: Buffer.alloc(bytes, 0xff).toString('base64') } });
  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('refuses upgrades without (401) or with a bad (403) signature', async () => {
    await expect(connect(null)).rejects.toThrow('401');
    await expect(connect('bm90IGEgc2lnbmF0dXJl')).rejects.toThrow('403');
    await expect(connect(signTwilioRequest(TOKEN, `https://voice.example.com${PATH}`, {}))).rejects.toThrow('403');
  });

  it('handles connected/start/media/dtmf/mark/stop and sends raw mu-law media and marks', async () => {
    const { ws, messages, closed } = await connect();
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(startFrame('CAok'));
    ws.send(media('CAok', 2, 160));
    ws.send(media('CAok', 3, 333));
    ws.send(JSON.stringify({ event: 'dtmf', sequenceNumber: '4', streamSid: 'MZCAok', dtmf: { track: 'inbound_track', digit: '0' } }));
    ws.send(JSON.stringify({ event: 'mark', sequenceNumber: '5', streamSid: 'MZCAok', mark: { name: 'greeting' } }));
    ws.send(JSON.stringify({ event: 'stop', sequenceNumber: '6', streamSid: 'MZCAok', stop: { accountSid: 'AC1', callSid: 'CAok' } }));
    const c = await closed;
    expect(c.code).toBe(1000);
    const seen = sessions.get('CAok')!;
    expect(seen).toEqual({ media: [160, 333], dtmf: ['0'], marks: ['greeting'], ended: ['stop'] });
    expect(messages[0]).toEqual({ event: 'media', streamSid: 'MZCAok', media: { payload: Buffer.from([0xff, 0x7f]).toString('base64') } });
    expect(messages[1]).toEqual({ event: 'mark', streamSid: 'MZCAok', mark: { name: 'greeting' } });
  });

  it.each([
    ['malformed JSON', (sid: string) => [startFrame(sid), '{"event":"media",'], /malformed JSON/],
    ['media before start', (sid: string) => [media(sid, 2, 160)], /media before start/],
    ['bad base64', (sid: string) => [startFrame(sid), JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid: `MZ${sid}`, media: { chunk: '1', timestamp: '0', payload: '%%%' } })], /not base64/],
    ['unknown event', (sid: string) => [startFrame(sid), JSON.stringify({ event: 'party', sequenceNumber: '2', streamSid: `MZ${sid}` })], /unknown event/],
    ['wrong media format', (sid: string) => [startFrame(sid).replace('audio/x-mulaw', 'audio/l16')], /unsupported media format/],
    ['refused call', (sid: string) => [startFrame(sid, { refuse: '1' })], /^cannot start call: no such call$/],
    // An internal error's text (SQL, hosts) stays in the server's log: the peer only learns that it failed.
    ['call that fails inside the server', (sid: string) => [startFrame(sid, { crash: '1' })], /^cannot start call: internal error$/],
    ['non-ASCII event name longer than a close frame', (sid: string) => [startFrame(sid), JSON.stringify({ event: '中'.repeat(60), sequenceNumber: '2', streamSid: `MZ${sid}` })], /unknown event/],
    ['non-ASCII parameter names in a bad start', (sid: string) => [startFrame(sid).replace('"sampleRate":8000', '"sampleRate":"x"').replace('"customParameters":{}', `"customParameters":{"${'é'.repeat(80)}":"1"}`)], /invalid start frame/],
  ])('%s closes only that stream with a reason; another call goes on', async (_name, frames, reason) => {
    const good = await connect();
    good.ws.send(startFrame('CAgood'));
    await until(() => sessions.has('CAgood'));
    const sid = `CAbad${Math.random().toString(16).slice(2, 8)}`;
    const bad = await connect();
    for (const f of frames(sid)) bad.ws.send(f);
    const c = await bad.closed;
    expect(c.code).toBe(1008);
    expect(c.reason).toMatch(reason);
    // The other call still streams.
    const before = sessions.get('CAgood')!.media.length;
    good.ws.send(media('CAgood', 2, 160));
    await until(() => sessions.get('CAgood')!.media.length === before + 1);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    const bs = sessions.get(sid);
    if (bs) expect(bs.ended[0]).toMatch(/protocol error/);
    good.ws.close();
    await good.closed;
    sessions.delete('CAgood');
  });

  it('a stream that goes quiet (vanished peer) is closed and its session ended', async () => {
    const { ws, closed } = await connect();
    ws.send(startFrame('CAquiet'));
    await until(() => sessions.has('CAquiet'));
    const c = await closed;
    expect(c).toEqual({ code: 1008, reason: 'no frames for 400 ms' });
    expect(sessions.get('CAquiet')!.ended[0]).toMatch(/no frames/);
  });

  it('a socket dropped without stop still ends the session', async () => {
    const { ws } = await connect();
    ws.send(startFrame('CAdrop'));
    await until(() => sessions.has('CAdrop'));
    ws.terminate();
    await until(() => sessions.get('CAdrop')!.ended.length === 1);
    expect(sessions.get('CAdrop')!.ended).toEqual(['socket closed']);
  });
});
