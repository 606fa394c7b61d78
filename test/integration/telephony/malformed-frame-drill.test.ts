import { randomBytes } from 'node:crypto';
import pino from 'pino';
import WebSocket from 'ws';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../../src/config';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { migrateAndSeed } from '../../../src/db/setup';
import { buildAppContext, type AppContext } from '../../../src/context';
import { startServer, type RunningServer } from '../../../src/server';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { realProcess } from './real-process';
import { closeInProcessServer } from '../../helpers/in-process-server';

/**
 * Malformed-frame drill on the whole server (real PostgreSQL, fake providers): many calls are answered, start
 * their stream, hear the greeting begin, then send a broken frame. Each is closed with 1008; the process emits no
 * warning (e.g. MaxListenersExceededWarning) and no unhandled rejection.
 */
describe('malformed-frame drill on the full server', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}\n${w.stack}`);
  const onRejection = (e: unknown) => warnings.push(`unhandledRejection: ${String(e)}`);

  beforeAll(async () => {
    realProcess().on('warning', onWarning);
    realProcess().on('unhandledRejection', onRejection);
    db = await setupTestDb();
    await migrateAndSeed(db);
    config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent' });
    const providers = {
      stt: new FakeStt({ respond: () => 'hello' }),
      llm: new FakeLlm({ respond: () => 'Okay.' }),
      tts: new FakeTts({ firstByteMs: 5, interChunkMs: 20 }),
    };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `drill-${process.pid}-${Date.now()}`, providers });
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
    realProcess().off('warning', onWarning);
    realProcess().off('unhandledRejection', onRejection);
  });

  async function brokenCall(frame: string): Promise<{ code: number; reason: string; agentFrames: number }> {
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const params = { AccountSid: config.twilio.accountSid, ApiVersion: '2010-04-01', CallSid: callSid, CallStatus: 'ringing', Direction: 'inbound', From: '+14155550100', To: '+18005550199' };
    const res = await fetch(`http://127.0.0.1:${server.port}/twilio/voice`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(config.twilio.authToken, `${config.publicBaseUrl}/twilio/voice`, params) },
      body: new URLSearchParams(params).toString(),
    });
    const stream = parseStreamTwiml(await res.text());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${new URL(stream.url).pathname}`, { headers: { 'x-twilio-signature': signTwilioRequest(config.twilio.authToken, stream.url, {}) } });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    let agentFrames = 0;
    ws.on('message', () => agentFrames++);
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    const streamSid = `MZ${randomBytes(16).toString('hex')}`;
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: config.twilio.accountSid, streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: stream.parameters } }));
    const deadline = Date.now() + 10_000;
    while (agentFrames === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10)); // the greeting is playing
    ws.send(frame.replace('$SID', streamSid));
    return { ...(await closed), agentFrames };
  }

  it('closes every broken call with 1008 and the process stays free of warnings', async () => {
    const frames = ['{"event":"media",', '{"event":"media","sequenceNumber":"2","streamSid":"$SID","media":{"chunk":"1","timestamp":"0","payload":"%%%"}}', '{"event":"party"}'];
    for (let wave = 0; wave < 3; wave++) {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => brokenCall(frames[(wave + i) % frames.length])));
      for (const r of results) {
        expect(r.code).toBe(1008);
        expect(r.agentFrames).toBeGreaterThan(0);
      }
    }
    await new Promise((r) => setTimeout(r, 500)); // let the ended sessions settle
    expect(warnings).toEqual([]);
  });
});
