import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { buildAppContext, type AppContext } from '../../src/context';
import { migrateAndSeed } from '../../src/db/setup';
import { Accounts } from '../../src/http/auth/accounts';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import { startServer, type RunningServer } from '../../src/server';
import { createTestUser } from './auth-api';
import { setupTestDb, testDatabaseUrl } from './db';
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
 * with one admin, one supervisor and one viewer. `close()` stops it and removes the build.
 */
export async function startDashboardServer(tag: string): Promise<DashboardServer> {
  const [db, webUiDir] = await Promise.all([setupTestDb(), buildDashboard()]);
  let ctx: AppContext | null = null;
  let server: RunningServer | null = null;
  try {
    await migrateAndSeed(db);
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://localhost' });
    const providers = { stt: new FakeStt({ respond: () => 'hello' }), llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `dash-${tag}-${process.pid}`, providers });
    server = await startServer(config, ctx, { webUiDir, redisPrefix: `dash-${tag}-${process.pid}` });
    const accounts = new Accounts(db);
    const [admin, supervisor, viewer] = [await createTestUser(accounts, 'admin', `${tag}-admin`), await createTestUser(accounts, 'supervisor', `${tag}-sup`), await createTestUser(accounts, 'viewer', `${tag}-viewer`)];
    const s = server;
    const c = ctx;
    return {
      base: `http://localhost:${s.port}`,
      db,
      ctx: c,
      server: s,
      accounts,
      admin,
      supervisor,
      viewer,
      close: async () => {
        await closeInProcessServer({ server: s, ctx: c, db });
        rmSync(webUiDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await closeInProcessServer({ server, ctx, db });
    rmSync(webUiDir, { recursive: true, force: true });
    throw err;
  }
}
