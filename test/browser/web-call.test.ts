import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { encodeWav, parseWav } from '../../src/audio/wav';
import { resample } from '../../src/audio/resample';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { Accounts } from '../../src/http/auth/accounts';
import { SESSION_COOKIE, SESSION_COOKIE_PATH } from '../../src/http/auth/session';
import { closeInProcessServer } from '../helpers/in-process-server';
import { createTestUser, login } from '../helpers/auth-api';
import { listen } from '../helpers/http';
import { waitFor } from '../helpers/async';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TEST_CALL_DIR = path.join(__dirname, '../../web/src/test-call');

/**
 * The browser test call in a real Chromium (issue 12 §6): Chromium's fake microphone plays a real recording
 * (16 kHz LibriVox, resampled to a 48 kHz 16-bit WAV with silence around it), the page bundles
 * web/src/test-call/client.ts with esbuild and calls `startTestCall`; the capture worklet, the WebSocket
 * (session cookie, Origin checked), the engine and the player run for real. The caller's transcript arrives on the
 * page, agent audio is received, and the call is stored with direction `web`.
 */
describe('browser test call (Chromium, fake microphone)', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let page: { base: string; close(): Promise<void> };
  let browser: Browser | null = null;
  let tmp: string;
  let agentId: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'web-call-'));
    // Chromium's fake capture wants a 16-bit PCM WAV; 48 kHz mono: 7 s silence (the greeting plays), the recording,
    // 10 s silence (the reply plays); Chromium loops it.
    const speech = resample(parseWav(readFileSync(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'))), 48_000);
    const samples = new Int16Array(48_000 * 7 + speech.samples.length + 48_000 * 10);
    samples.set(speech.samples, 48_000 * 7);
    writeFileSync(path.join(tmp, 'caller.wav'), encodeWav({ samples, sampleRate: 48_000 }));

    const bundle = async (o: Parameters<typeof build>[0]) => (await build({ bundle: true, write: false, format: 'esm', target: 'chrome120', logLevel: 'silent', ...o })).outputFiles![0].text;
    const appJs = await bundle({ stdin: { contents: "import { startTestCall } from './client'; (globalThis as any).startTestCall = startTestCall;", resolveDir: TEST_CALL_DIR, loader: 'ts' } });
    const workletJs = await bundle({ entryPoints: [path.join(TEST_CALL_DIR, 'audio-worklet.ts')] });
    const files: Record<string, [string, string]> = {
      '/': ['text/html', '<!doctype html><html lang="en"><title>test call</title><script type="module" src="/app.js"></script></html>'],
      '/app.js': ['text/javascript', appJs],
      '/worklet.js': ['text/javascript', workletJs],
    };
    page = await listen((req, res) => {
      const f = files[(req.url ?? '/').split('?')[0]];
      res.writeHead(f ? 200 : 404, { 'content-type': f ? f[0] : 'text/plain' }).end(f ? f[1] : 'not found');
    });
    const pageOrigin = page.base.replace('127.0.0.1', 'localhost');

    db = await setupTestDb();
    agentId = (await migrateAndSeed(db)).agentId;
    // The dashboard's origin (here the test page's) is PUBLIC_BASE_URL: the upgrade's Origin check accepts it.
    // Provider timeouts are generous: a browser, the server and the offline models share a small machine here, and
    // one STT timeout would open its breaker (the test is about the browser path, not the providers' speed).
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      LOG_LEVEL: 'silent',
      PUBLIC_BASE_URL: pageOrigin,
      SESSION_SECRET: 'browser-web-call-session-secret-0123456789',
      STT_TIMEOUT_MS: '60000',
      TTS_FIRST_BYTE_TIMEOUT_MS: '30000',
    });
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `webcall-browser-${process.pid}-${Date.now()}` });
    server = await startServer(config, ctx);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${path.join(tmp, 'caller.wav')}`, '--autoplay-policy=no-user-gesture-required'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await closeInProcessServer({ server, ctx, db });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('captures the microphone, shows the caller transcript, receives agent audio and stores a web call', async () => {
    const appBase = `http://localhost:${server.port}`;
    const pageOrigin = page.base.replace('127.0.0.1', 'localhost');
    const user = await createTestUser(new Accounts(ctx.db), 'viewer', 'browser-call');
    const { res, cookie } = await login(appBase, user.email, user.password, { origin: pageOrigin });
    expect(res.status).toBe(200);
    // Cookies are per host, not per port: the dashboard's login cookie reaches the API server on localhost.
    const context = await browser!.newContext();
    await context.addCookies([{ name: SESSION_COOKIE, value: cookie!.slice(cookie!.indexOf('=') + 1), domain: 'localhost', path: SESSION_COOKIE_PATH, httpOnly: true, sameSite: 'Lax' }]);
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${pageOrigin}/`);
    await tab.waitForFunction(() => typeof (globalThis as any).startTestCall === 'function');

    const callSid: string = await tab.evaluate(
      async ({ agentId, url }) => {
        const w = globalThis as any;
        w.turns = [];
        w.latencies = [];
        w.call = await w.startTestCall({
          agentId,
          url,
          workletUrl: '/worklet.js',
          onTranscript: (t: unknown) => w.turns.push(t),
          onTurnLatency: (seq: number, l: unknown) => w.latencies.push({ seq, l }),
          onEnd: (e: unknown) => (w.ended = e),
        });
        return w.call.callSid;
      },
      { agentId, url: `ws://localhost:${server.port}/api/web-call` },
    );
    expect(callSid).toMatch(/^WC[0-9a-f]{32}$/);

    // The caller's words come back as a transcript event, then the agent's reply (with its latency) after them.
    const handle = await tab.waitForFunction(
      () => {
        const w = globalThis as any;
        const caller = w.turns.find((t: any) => t.role === 'caller' && t.text);
        const reply = caller && w.turns.find((t: any) => t.role === 'agent' && t.seq > caller.seq);
        return reply ? { caller: caller.text, reply: reply.text, bytes: w.call.agentAudioBytes, latencies: w.latencies.length } : null;
      },
      undefined,
      { timeout: 90_000, polling: 200 },
    );
    const seen = (await handle.jsonValue()) as { caller: string; reply: string; bytes: number; latencies: number };
    expect(seen.caller.length).toBeGreaterThan(0);
    expect(seen.reply.length).toBeGreaterThan(0);
    expect(seen.bytes).toBeGreaterThan(8000); // > 1 s of agent audio received (greeting + reply)
    expect(seen.latencies).toBeGreaterThanOrEqual(1);

    await tab.evaluate(() => (globalThis as any).call.hangUp());
    await tab.waitForFunction(() => (globalThis as any).ended, undefined, { timeout: 10_000 });
    expect(await tab.evaluate(() => (globalThis as any).ended)).toMatchObject({ byUser: true });
    await waitFor('the web call to end', async () => (await db('calls').where({ call_sid: callSid }).first())?.ended_at != null, 20_000);
    const call = await db('calls').where({ call_sid: callSid }).first();
    expect(call).toMatchObject({ direction: 'web', from_number: `web:${user.id}`, agent_id: agentId });
    const callerTurn = await db('call_turns').where({ call_sid: callSid, role: 'caller' }).first();
    expect(callerTurn.text).toBe(seen.caller);
    expect(errors).toEqual([]);
    await context.close();
  }, 150_000);
});
