/**
 * The Live calls page with many calls in progress (issue 12: "the live page stays smooth with 250 live calls").
 *
 * `npx tsx bench/live-page.ts [--calls 250] [--seconds 30] [--web dist/web] [--admin postgres://…/postgres] [--seed 42]`
 *
 * Starts the real server in-process (buildAppContext with the fake providers + startServer, like the browser tests)
 * on a scratch database (`callcenter_bench_livepage_<pid>`, migrated and seeded, dropped at the end) and its own
 * Redis key prefix; the dashboard is `--web` when given (a built dist/web), else freshly built with Vite into a
 * temporary directory. It then creates N live calls through the server's own live feed (`LiveFeed.started` /
 * `turn` / `event` / `ended`: the same Redis hash, turn lists and pub/sub channel the engine's sessions write; the
 * page needs no database row to list a live call), each with 2–6 turns, opens `/live` in headless Chromium (Debian's,
 * through playwright-core) logged in as an admin and waits until the page lists them all. During the window
 * (`--seconds`) every call emits a turn every 2–4 s (uniform, seeded PRNG), alternately the caller's and the
 * agent's (agent turns with stage timings and reply latency), 1 in 20 a `barge_in` event instead; calls end after
 * a 1–5 min lifetime and a new call takes the place of each (so N stay live).
 *
 * Measured in the page over the window (page clock): SSE messages received (an extra listener on the page's
 * EventSource), transcript turns rendered (MutationObserver: element children added to a transcript's
 * `[role=log]`), DOM-changing commits (MutationObserver callbacks), long tasks (PerformanceObserver `longtask`,
 * buffered) and requestAnimationFrame intervals. Prints JSON lines `{ name, value, unit, calls, seconds, … }`:
 * live_page_events_per_s_sent, live_page_messages_per_s_received, live_page_updates_per_s_rendered,
 * live_page_longtasks_count, live_page_longtask_total_ms, live_page_longtask_max_ms,
 * live_page_frame_interval_ms_p95 (and _max), live_page_main_thread_busy_ms (script / layout / style, from Chrome's
 * Performance.getMetrics). With LIVE_PAGE_CPU_PROFILE=<file> the page's V8 CPU profile over the window is written
 * there (open it in Chrome DevTools). Progress goes to stderr.
 */
import os from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { loadConfig } from '../src/config';
import { buildAppContext, type AppContext } from '../src/context';
import { migrateAndSeed } from '../src/db/setup';
import { createDb } from '../src/db/knex';
import { Accounts } from '../src/http/auth/accounts';
import type { LiveFeed } from '../src/live/feed';
import type { LiveTurn } from '../src/live/types';
import { parseArgs } from '../src/cli/args';
import { FakeLlm } from '../src/providers/llm/fake';
import { FakeStt } from '../src/providers/stt/fake';
import { FakeTts } from '../src/providers/tts/fake';
import { startServer, type RunningServer } from '../src/server';
import { launchChromium, loginThroughUi, openPage } from '../test/helpers/browser';
import { buildDashboard } from '../test/helpers/dashboard';
import { mulberry32 as prng } from '../test/helpers/prng';
import { emit, percentile, progress, round } from './stats';

const CALLER_LINES = [
  'Hi, I am calling about my last order, it has not arrived yet.',
  'Can you tell me when the store opens on Saturday?',
  'I would like a refund for the blue jacket I returned last week.',
  'My card was charged twice this month, can you check that?',
  'Yes, the order number is four five seven two one.',
  'No, that is all, thank you.',
  'Could I move my appointment to Thursday afternoon?',
  'I need to change the delivery address to my office.',
];
const AGENT_LINES = [
  'Of course. Let me look that up for you, one moment please.',
  'Your order shipped yesterday and should arrive within two business days.',
  'We open at nine in the morning on Saturdays and close at five.',
  'I have started the refund; it takes five to seven business days to show on your card.',
  'I see two charges; the second one is a pending authorization that will drop off.',
  'Thursday at two or at four o\'clock is available. Which one suits you?',
  'Done. Is there anything else I can help you with today?',
  'I have updated the address. You will get a confirmation by email.',
];

interface SimCall {
  callSid: string;
  seq: number;
  startMs: number;
  nextAt: number;
  endAt: number;
}

/**
 * The stream of live events of `n` calls through `feed` (the server's real publisher). `tick(now)` publishes what
 * is due at `now` (ms, wall clock) and returns how many events it published.
 */
class CallSimulator {
  private readonly calls: SimCall[] = [];
  private nextId = 0;
  private readonly rand: () => number;

  constructor(private readonly feed: LiveFeed, seed: number) {
    this.rand = prng(seed);
  }

  private between(lo: number, hi: number): number {
    return lo + this.rand() * (hi - lo);
  }

  /** Starts a call (published `call.started`); `agoMs` back-dates it, `turns` are published at once. */
  start(now: number, agoMs = 0, turns = 0): SimCall {
    const id = this.nextId++;
    const c: SimCall = {
      callSid: `CAbenchlive${process.pid}x${String(id).padStart(6, '0')}`,
      seq: 0,
      startMs: now - agoMs,
      nextAt: now + this.between(2000, 4000),
      endAt: now - agoMs + this.between(60_000, 300_000),
    };
    if (c.endAt < now + 5000) c.endAt = now + this.between(5000, 120_000);
    this.feed.started(
      { callSid: c.callSid, agentId: 'support', direction: id % 3 === 0 ? 'outbound-dial' : 'inbound', from: `+1415555${String(1000 + (id % 9000)).padStart(4, '0')}`, to: '+18005550199' },
      new Date(c.startMs),
    );
    for (let i = 0; i < turns; i++) this.turn(c, now);
    this.calls.push(c);
    return c;
  }

  private turn(c: SimCall, now: number): void {
    c.seq++;
    const caller = c.seq % 2 === 0;
    const lines = caller ? CALLER_LINES : AGENT_LINES;
    const text = lines[Math.floor(this.rand() * lines.length)];
    const endMs = Math.max(c.seq * 3000, now - c.startMs);
    const t: LiveTurn = { seq: c.seq, role: caller ? 'caller' : 'agent', text, language: 'en', startMs: endMs - 2500, endMs };
    if (!caller && c.seq > 1) {
      const endpointingMs = Math.round(this.between(150, 600));
      const sttMs = Math.round(this.between(80, 300));
      const llmFirstTokenMs = Math.round(this.between(250, 900));
      const ttsFirstByteMs = Math.round(this.between(80, 250));
      t.timings = { endpointingMs, sttMs, llmFirstTokenMs, ttsFirstByteMs, replyLatencyMs: endpointingMs + sttMs + llmFirstTokenMs + ttsFirstByteMs };
    }
    if (caller) t.intent = 'order_status';
    this.feed.turn(c.callSid, t);
  }

  /** Turns published by {@link tick} so far. */
  turnsSent = 0;

  /** Publishes every due turn/event/end (each ended call replaced by a new one); @returns events published. */
  tick(now: number): number {
    let sent = 0;
    for (let i = 0; i < this.calls.length; i++) {
      const c = this.calls[i];
      if (now >= c.endAt) {
        this.feed.ended(c.callSid, 'caller hung up', new Date(now));
        sent++;
        this.calls.splice(i, 1);
        i--;
        this.start(now);
        sent++;
        continue;
      }
      if (now < c.nextAt) continue;
      if (this.rand() < 0.05) this.feed.event(c.callSid, 'barge_in', { atMs: now - c.startMs }, new Date(now));
      else {
        this.turn(c, now);
        this.turnsSent++;
      }
      sent++;
      c.nextAt = now + this.between(2000, 4000);
    }
    return sent;
  }

  /**
   * Re-bases the schedule on `now` (the window's start): the page's loading took seconds, after which every call
   * would be due at once. Next turns are spread over the next 0–4 s; lifetimes are shifted by the time elapsed.
   */
  rebase(now: number, seededAt: number): void {
    for (const c of this.calls) {
      c.nextAt = now + this.between(0, 4000);
      c.endAt += now - seededAt;
    }
  }

  /** Ends every call still live (published `call.ended`). */
  endAll(now: number): void {
    for (const c of this.calls.splice(0)) this.feed.ended(c.callSid, 'bench over', new Date(now));
  }
}

/**
 * Installed before the page's scripts (browser JavaScript, kept as text: the server's tsconfig has no DOM types):
 * counters the bench starts (`__livePageStart()`) and reads (`__livePageStop()`).
 */
const INSTRUMENT = `(() => {
  const m = { counting: false, t0: 0, t1: 0, messages: 0, turnsRendered: 0, commits: 0, longtasks: [], frames: [] };
  window.__livePage = m;
  const Native = window.EventSource;
  class CountingEventSource extends Native {
    constructor(url, init) {
      super(url, init);
      for (const t of ['call.started', 'call.turn', 'call.event', 'call.ended']) super.addEventListener(t, () => { if (m.counting) m.messages++; });
    }
  }
  window.EventSource = CountingEventSource;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) m.longtasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((records) => {
    if (!m.counting) return;
    m.commits++;
    for (const r of records) {
      if (!(r.target instanceof Element) || r.target.getAttribute('role') !== 'log') continue;
      for (const n of r.addedNodes) if (n instanceof Element) m.turnsRendered++;
    }
  }).observe(document, { childList: true, subtree: true });
  window.__livePageStart = () => {
    m.counting = true;
    m.t0 = performance.now();
    let last = m.t0;
    const frame = (t) => {
      if (!m.counting) return;
      m.frames.push(t - last);
      last = t;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  };
  window.__livePageStop = () => {
    m.counting = false;
    m.t1 = performance.now();
    return { ...m, longtasks: m.longtasks.filter((l) => l.start >= m.t0 && l.start < m.t1) };
  };
})();`;

interface PageCounters {
  t0: number;
  t1: number;
  messages: number;
  turnsRendered: number;
  commits: number;
  longtasks: Array<{ start: number; duration: number }>;
  frames: number[];
}

async function waitForCount(page: Page, n: number): Promise<void> {
  await page.getByText(`${n} in progress`, { exact: true }).waitFor({ timeout: 120_000 });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { calls: 'string', seconds: 'string', web: 'string', admin: 'string', seed: 'string' });
  const nCalls = Number(args.calls ?? 250);
  const seconds = Number(args.seconds ?? 30);
  const seed = Number(args.seed ?? 42);
  const adminUrl = String(args.admin ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  if (!(nCalls > 0) || !(seconds > 0)) throw new Error('--calls and --seconds must be positive numbers');
  const dbName = `callcenter_bench_livepage_${process.pid}`;
  const prefix = `bench-livepage-${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const builtWeb = args.web ? null : await (progress('building the dashboard (Vite)'), buildDashboard());
  const webUiDir = args.web ? path.resolve(String(args.web)) : builtWeb!;
  let ctx: AppContext | null = null;
  let server: RunningServer | null = null;
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  let sim: CallSimulator | null = null;
  try {
    const db = createDb(databaseUrl, { min: 1, max: 2 });
    await migrateAndSeed(db);
    await db.destroy();
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://localhost' });
    const providers = { stt: new FakeStt({ respond: () => 'hello' }), llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: prefix, providers });
    server = await startServer(config, ctx, { webUiDir, redisPrefix: prefix });
    await server.liveService.ready();
    const password = 'bench-Live-page-42!';
    const email = `livebench-${process.pid}@example.com`;
    await new Accounts(ctx.db).createUser({ email, password, role: 'admin' }, { kind: 'bootstrap', id: 'bench', label: 'bench' });
    const base = `http://localhost:${server.port}`;

    const now0 = Date.now();
    sim = new CallSimulator(server.liveService.feed, seed);
    const r = prng(seed + 1);
    for (let i = 0; i < nCalls; i++) sim.start(now0, Math.floor(r() * 120_000), 2 + Math.floor(r() * 5));
    await ctx.authRedis.ping(); // the feed's writes are pipelined on this connection: flushed once PONG arrives
    progress(`${nCalls} live calls published; opening /live in Chromium`);

    browser = await launchChromium();
    const page = await openPage(browser);
    await page.addInitScript({ content: INSTRUMENT });
    await loginThroughUi(page, base, { email, password }, '/live');
    await page.getByTestId('feed-status').filter({ hasText: 'live' }).waitFor();
    await waitForCount(page, nCalls);
    await page.waitForTimeout(3000); // settle: the first render's layout, fonts
    progress(`page lists ${nCalls} calls; streaming for ${seconds} s`);

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => Object.fromEntries(((await cdp.send('Performance.getMetrics')).metrics as Array<{ name: string; value: number }>).map((m) => [m.name, m.value]));
    const m0 = await metrics();
    const profilePath = process.env.LIVE_PAGE_CPU_PROFILE; // optional: the page's V8 CPU profile over the window
    if (profilePath) await cdp.send('Profiler.enable').then(() => cdp.send('Profiler.start'));
    await page.evaluate('window.__livePageStart()');
    const t0 = Date.now();
    sim.rebase(t0, now0);
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        if (now - t0 >= seconds * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        sent += sim!.tick(now);
      }, 20);
    });
    const sentMs = Date.now() - t0;
    const c = (await page.evaluate('window.__livePageStop()')) as PageCounters;
    const m1 = await metrics();
    if (profilePath) writeFileSync(profilePath, JSON.stringify((await cdp.send('Profiler.stop')).profile));
    const busyS = (k: string) => round(((m1[k] ?? 0) - (m0[k] ?? 0)) * 1000, 0);
    const windowS = (c.t1 - c.t0) / 1000;
    const lt = c.longtasks.map((l) => l.duration);
    const ltTotal = lt.reduce((a, b) => a + b, 0);
    const frames = c.frames.slice(1); // the first interval starts at the start call, not at a frame
    const ctxFields = { calls: nCalls, seconds, windowS: round(windowS, 2), loadAvg1m: round(os.loadavg()[0], 1), cpus: os.cpus().length };
    emit({ name: 'live_page_events_per_s_sent', value: round(sent / (sentMs / 1000), 1), unit: 'events/s', ...ctxFields, events: sent, turnsSent: sim.turnsSent, turnsPerS: round(sim.turnsSent / (sentMs / 1000), 1) });
    emit({ name: 'live_page_messages_per_s_received', value: round(c.messages / windowS, 1), unit: 'messages/s', ...ctxFields, messages: c.messages });
    emit({ name: 'live_page_updates_per_s_rendered', value: round(c.turnsRendered / windowS, 1), unit: 'turns/s', ...ctxFields, turns: c.turnsRendered, domCommitsPerS: round(c.commits / windowS, 1) });
    emit({ name: 'live_page_longtasks_count', value: lt.length, unit: 'tasks', ...ctxFields });
    emit({ name: 'live_page_longtask_total_ms', value: round(ltTotal, 0), unit: 'ms', ...ctxFields, per10sMs: round((ltTotal / windowS) * 10, 0) });
    emit({ name: 'live_page_longtask_max_ms', value: round(lt.length ? Math.max(...lt) : 0, 0), unit: 'ms', ...ctxFields });
    // Renderer main-thread time over the window by kind (Chrome's Performance.getMetrics, seconds → ms).
    emit({ name: 'live_page_main_thread_busy_ms', value: busyS('TaskDuration'), unit: 'ms', ...ctxFields, scriptMs: busyS('ScriptDuration'), layoutMs: busyS('LayoutDuration'), styleMs: busyS('RecalcStyleDuration') });
    emit({ name: 'live_page_frame_interval_ms_p95', value: round(percentile(frames, 95), 1), unit: 'ms', ...ctxFields, frames: frames.length, p50: round(percentile(frames, 50), 1) });
    emit({ name: 'live_page_frame_interval_ms_max', value: round(frames.length ? Math.max(...frames) : NaN, 1), unit: 'ms', ...ctxFields });
  } finally {
    sim?.endAll(Date.now());
    await browser?.close().catch(() => undefined);
    if (ctx) {
      const keys = await ctx.authRedis.keys(`${prefix}:*`).catch(() => [] as string[]);
      if (keys.length) await ctx.authRedis.del(keys).catch(() => undefined);
    }
    await server?.close().catch(() => undefined);
    await ctx?.queue.obliterate({ force: true }).catch(() => undefined);
    await ctx?.close().catch(() => undefined);
    if (builtWeb) rmSync(builtWeb, { recursive: true, force: true });
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
