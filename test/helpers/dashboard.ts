import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { buildAppContext, type AppContext } from '../../src/context';
import { migrateAndSeed } from '../../src/db/setup';
import { AgentsRepo } from '../../src/db/agents';
import { analyzeLocally } from '../../src/analytics/call-analysis';
import { CallAnalysisRepo } from '../../src/db/call-analysis';
import { CallsRepo } from '../../src/db/calls';
import { PostCallRepo } from '../../src/db/post-call';
import { scoreCsat } from '../../src/analytics/csat';
import type { TurnInput } from '../../src/domain/calls';
import { Accounts } from '../../src/http/auth/accounts';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import { startServer, type RunningServer } from '../../src/server';
import { createTestUser } from './auth-api';
import { setupTestDb, testDatabaseUrl, uniqueSid } from './db';
import { closeInProcessServer } from './in-process-server';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/**
 * Builds the dashboard from the current web/ sources (Vite, web/vite.config.mts) into a fresh temporary directory,
 * so a browser test never runs against a stale dist/web. Returns the directory; remove it when done.
 */
export async function buildDashboard(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'dashboard-'));
  await run(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'web', 'vite.config.mts'), '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: ROOT,
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
  return out;
}

/** A user of the dashboard server: role, email and password (log in with them through the UI). */
export interface DashboardUser {
  id: string;
  email: string;
  password: string;
}

export interface DashboardServer {
  /** The server's configuration. */
  config: Readonly<Config>;
  /** `http://localhost:<port>` (localhost: the origin the login's CSRF check and the cookie accept). */
  base: string;
  db: Knex;
  ctx: AppContext;
  server: RunningServer;
  accounts: Accounts;
  admin: DashboardUser;
  supervisor: DashboardUser;
  viewer: DashboardUser;
  close(): Promise<void>;
}

/**
 * The real server in-process (`buildAppContext` with fake STT/LLM/TTS + `startServer` on an ephemeral port) on this
 * Jest worker's test database (migrated and seeded), serving the dashboard freshly built by {@link buildDashboard},
 * with one admin, one supervisor and one viewer; `o.env` adds configuration variables (e.g. WEBHOOK_ALLOW_PRIVATE_HOSTS). `close()` stops it, deletes its Redis keys and removes the build.
 */
export async function startDashboardServer(tag: string, o: { env?: Record<string, string> } = {}): Promise<DashboardServer> {
  const [db, webUiDir] = await Promise.all([setupTestDb(), buildDashboard()]);
  const prefix = `dash-${tag}-${process.pid}`;
  let ctx: AppContext | null = null;
  let server: RunningServer | null = null;
  try {
    await migrateAndSeed(db);
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://localhost', ...o.env });
    const providers = { stt: new FakeStt({ respond: () => 'hello' }), llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: prefix, providers });
    server = await startServer(config, ctx, { webUiDir, redisPrefix: prefix });
    const accounts = new Accounts(db);
    const [admin, supervisor, viewer] = [await createTestUser(accounts, 'admin', `${tag}-admin`), await createTestUser(accounts, 'supervisor', `${tag}-sup`), await createTestUser(accounts, 'viewer', `${tag}-viewer`)];
    const s = server;
    const c = ctx;
    return {
      config,
      base: `http://localhost:${s.port}`,
      db,
      ctx: c,
      server: s,
      accounts,
      admin,
      supervisor,
      viewer,
      close: async () => {
        // Sessions, rate-limit and login counters of this server (the queue is obliterated by closeInProcessServer).
        await s.close();
        const keys = await c.authRedis.keys(`${prefix}:*`);
        if (keys.length) await c.authRedis.del(keys);
        await closeInProcessServer({ ctx: c, db });
        rmSync(webUiDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await closeInProcessServer({ server, ctx, db });
    rmSync(webUiDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Stores a finished two-exchange call (agent: `o.agentId`, else the default agent) as the engine and the post-call jobs would (repositories, not SQL): a greeting,
 * a caller question, an agent reply with stage timings that the caller cut (barge-in event; with the unheard rest of
 * the reply), a second exchange, a `completed` status callback and the heuristic CSAT with its components. Returns
 * the callSid.
 */
export async function seedDashboardCall(db: Knex, o: { agentId?: string; from?: string } = {}): Promise<string> {
  const calls = new CallsRepo(db);
  const callSid = uniqueSid('CA');
  // The seeded default agent (list() puts it first).
  const agentId = o.agentId ?? (await new AgentsRepo(db).list())[0].id;
  await calls.create({ callSid, agentId, direction: 'inbound', from: o.from ?? '+14155550100', to: '+18005550199', status: 'in-progress' });
  const turns: TurnInput[] = [
    { role: 'agent', text: 'Hello, thanks for calling. How can I help?', language: 'en', startMs: 0, endMs: 2100 },
    { role: 'caller', text: 'I would like a refund for my last order.', language: 'en', startMs: 2600, endMs: 4800, intent: 'refund' },
    {
      role: 'agent',
      text: 'Of course. Refunds take',
      language: 'en',
      startMs: 5300,
      endMs: 6400,
      interrupted: true,
      unheardText: 'five to seven business days. Is there anything else?',
      timings: { endpointingMs: 220, sttMs: 140, llmFirstTokenMs: 380, ttsFirstByteMs: 160, replyLatencyMs: 520 },
    },
    { role: 'caller', text: 'How long exactly?', language: 'en', startMs: 6300, endMs: 7400 },
    { role: 'agent', text: 'Five to seven business days. Anything else?', language: 'en', startMs: 7900, endMs: 10200, timings: { endpointingMs: 180, sttMs: 110, llmFirstTokenMs: 290, ttsFirstByteMs: 130, replyLatencyMs: 470 } },
  ];
  for (const t of turns) await calls.addTurn(callSid, t);
  await calls.addEvent(callSid, 'barge_in', { atMs: 6350, speechStartMs: 6300 });
  await calls.finish(callSid, { language: 'en', intent: 'refund' });
  await calls.applyStatus(callSid, 'completed', 1, { CallStatus: 'completed', CallDuration: '11' });
  const csat = scoreCsat({ turns: turns.map((t) => ({ ...t, intent: t.intent ?? null, interrupted: !!t.interrupted })), durationMs: 10_200 });
  await new PostCallRepo(db).upsertCsat(callSid, { score: csat.score, method: csat.method, details: { ...csat.details } });
  // Post-call analysis as the worker's offline step stores it (the agent has no extraction schema: no fields).
  const analyses = new CallAnalysisRepo(db);
  await analyses.save(callSid, analyzeLocally((await analyses.facts(callSid))!));
  return callSid;
}
