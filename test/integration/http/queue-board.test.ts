import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig } from '../../../src/config';
import { buildAppContext, type AppContext } from '../../../src/context';
import { migrateAndSeed } from '../../../src/db/setup';
import { Accounts } from '../../../src/http/auth/accounts';
import { QUEUE_BOARD_PATH } from '../../../src/http/routes/queue-board';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { startServer, type RunningServer } from '../../../src/server';
import { createTestUser, login } from '../../helpers/auth-api';
import { setupTestDb, testDatabaseUrl, uniqueSid } from '../../helpers/db';
import { closeInProcessServer } from '../../helpers/in-process-server';

/** The CSP directive `name` of a Content-Security-Policy header (its sources), or null when absent. */
const directive = (csp: string | null, name: string): string[] | null => {
  const d = (csp ?? '').split(';').map((s) => s.trim().split(/\s+/)).find(([n]) => n === name);
  return d ? d.slice(1) : null;
};

/**
 * Bull Board through the real server (buildAppContext + startServer, real PostgreSQL and Redis): an admin's session
 * gets the board's HTML (with the board's own CSP: scripts from 'self' only) and its assets, and the board's API
 * lists the post-call, knowledge and webhook-delivery queues with a job this server enqueued; a viewer gets 403,
 * an anonymous request 401, a cookie-authenticated write from another origin 403 (CSRF); /admin/queues redirects.
 */
describe('Bull Board at /api/admin/queues', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let base: string;
  let adminCookie: string;
  let viewerCookie: string;

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://localhost' });
    const providers = { stt: new FakeStt({ respond: () => 'hello' }), llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `queue-board-${process.pid}`, providers });
    server = await startServer(config, ctx);
    base = `http://localhost:${server.port}`;
    const accounts = new Accounts(db);
    const [admin, viewer] = [await createTestUser(accounts, 'admin', 'board-admin'), await createTestUser(accounts, 'viewer', 'board-viewer')];
    adminCookie = (await login(base, admin.email, admin.password, { origin: base })).cookie!;
    viewerCookie = (await login(base, viewer.email, viewer.password, { origin: base })).cookie!;
    expect(adminCookie).toBeTruthy();
    expect(viewerCookie).toBeTruthy();
  }, 60_000);

  afterAll(async () => {
    const keys = await ctx?.authRedis.keys(`queue-board-${process.pid}:*`);
    if (keys?.length) await ctx.authRedis.del(keys);
    await closeInProcessServer({ server, ctx, db });
  });

  const get = (path: string, cookie?: string) => fetch(`${base}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });

  it('serves an admin the board page with its own CSP, and its static assets', async () => {
    const res = await get(`${QUEUE_BOARD_PATH}/`, adminCookie);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain(`<base href="${QUEUE_BOARD_PATH}/"`);
    expect(html).toContain('Call center queues');
    const csp = res.headers.get('content-security-policy');
    expect(directive(csp, 'script-src')).toEqual(["'self'"]);
    expect(directive(csp, 'style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(directive(csp, 'connect-src')).toEqual(["'self'"]);
    expect(directive(csp, 'frame-ancestors')).toEqual(["'none'"]);
    expect(res.headers.get('x-powered-by')).toBeNull();
    // Every script the page loads is a same-origin file the board serves (nothing the CSP would block).
    const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).not.toMatch(/^[a-z]+:/i);
      const asset = await get(`${QUEUE_BOARD_PATH}/${src}`, adminCookie);
      expect([src, asset.status]).toEqual([src, 200]);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    }
    // The only inline <script> is the board's JSON config (data, not executed).
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)([^>]*)>/g)].map((m) => m[1]);
    expect(inline).toEqual([' id="__UI_CONFIG__" type="application/json"']);
  });

  it("lists the post-call, knowledge and webhook-delivery queues through the board's API, with a job this server enqueued", async () => {
    await ctx.enqueuePostCall(uniqueSid('CA'));
    const res = await get(`${QUEUE_BOARD_PATH}/api/queues?activeQueue=post-call&status=waiting&page=1`, adminCookie);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number>; type: string }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['knowledge', 'post-call', 'webhook-delivery']);
    const postCall = body.queues.find((q) => q.name === 'post-call')!;
    expect(postCall.type).toBe('bullmq');
    expect(postCall.counts.waiting + (postCall.counts.delayed ?? 0) + (postCall.counts.active ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('answers 401 without a session, 403 to a viewer', async () => {
    const anon = await get(`${QUEUE_BOARD_PATH}/`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ error: expect.any(String) });
    expect((await get(`${QUEUE_BOARD_PATH}/api/queues`)).status).toBe(401);
    const viewer = await get(`${QUEUE_BOARD_PATH}/`, viewerCookie);
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toEqual({ error: 'this needs the admin role (you are viewer)' });
    expect((await get(`${QUEUE_BOARD_PATH}/api/queues`, viewerCookie)).status).toBe(403);
  });

  it("refuses a cookie-authenticated write from another origin (CSRF) and leaves the queue running", async () => {
    const res = await fetch(`${base}${QUEUE_BOARD_PATH}/api/queues/post-call/pause`, { method: 'PUT', headers: { cookie: adminCookie, origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(await ctx.queue.isPaused()).toBe(false);
    // From the dashboard's own origin the same write goes through (then undo it).
    const ok = await fetch(`${base}${QUEUE_BOARD_PATH}/api/queues/post-call/pause`, { method: 'PUT', headers: { cookie: adminCookie, origin: base } });
    expect(ok.status).toBe(200);
    expect(await ctx.queue.isPaused()).toBe(true);
    await ctx.queue.resume();
  });

  it('redirects /admin/queues to the board', async () => {
    const res = await get('/admin/queues');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${QUEUE_BOARD_PATH}/`);
  });
});
