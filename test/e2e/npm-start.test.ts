import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { waitFor } from '../helpers/async';

const ROOT = path.resolve(__dirname, '../..');

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Lines of `ps -o <field>= -g pgid` for process group `pgid` (ps exits 1 when there are none). */
function groupPs(pgid: number, field: 'pid' | 'args'): string[] {
  try {
    return execFileSync('ps', ['-o', `${field}=`, '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Pids still in process group `pgid`. */
function groupPids(pgid: number): number[] {
  return groupPs(pgid, 'pid').map(Number).filter((n) => n > 0);
}

async function get(url: string): Promise<{ status: number; body: any } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.json() };
  } catch {
    return null;
  }
}

/** Env of a test server/worker: this worker's database, a private queue prefix, offline fake providers. */
function testEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `npmstart-${process.pid}`,
    STT_PROVIDER: 'fake',
    TTS_PROVIDER: 'fake',
    LLM_PROVIDER: 'fake',
    EMBEDDINGS_PROVIDER: 'local',
    VECTOR_PROVIDER: 'postgres',
    ...extra,
  };
}

/**
 * `npm start` / `npm run worker` (the production build, `node dist/…`) and `npm run dev` (tsx) as a process manager
 * runs them: the npm process gets SIGTERM (only npm, not its process group, as `docker stop` on an npm PID 1 or
 * systemd with KillMode=mixed does), and the entrypoint must receive it, shut down gracefully, exit 0 and leave no
 * orphan. With `tsx src/main.ts` under npm's `sh -c`, the shell died of the signal and the tsx/node pair kept running.
 * dist/ is built first when it is older than the sources (`scripts/build.mjs --if-stale --no-check`; a no-op when the
 * bootstrap already built it).
 */
describe('npm scripts pass SIGTERM to the process', () => {
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--if-stale', '--no-check'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const db = await setupTestDb();
    await db.destroy();
  }, 180_000);

  afterAll(() => {
    // Whatever happened, nothing of the groups survives the test.
    for (const child of children) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* group already gone */
      }
    }
  });

  /** Spawns `npm <args>` in its own process group (pgid = npm's pid); collects its output. */
  function spawnNpm(args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn('npm', args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const out = { text: '' };
    child.stdout!.on('data', (b) => (out.text += b));
    child.stderr!.on('data', (b) => (out.text += b));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return { child, out, pgid: child.pid!, exited };
  }

  /** SIGTERM to npm only; its exit (or null after 20 s), then whether its group emptied within 5 s (or the pids left). */
  async function terminate(p: ReturnType<typeof spawnNpm>) {
    process.kill(p.child.pid!, 'SIGTERM');
    const exit = await Promise.race([p.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref())]);
    // Bounded poll: under `npm run dev`, tsx's esbuild service child exits once its parent is gone.
    const groupEmpty = await waitFor('the process group to be empty', async () => groupPids(p.pgid).length === 0, 5_000).catch(() => groupPids(p.pgid));
    return { exit, groupEmpty };
  }

  it.each([
    ['start', 'node dist/main.js'],
    ['run dev', 'node --import tsx src/main.ts'],
  ])('npm %s: the server drains, stops listening and exits 0 with no process of its group left', async (script, command) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const p = spawnNpm(script.split(' '), testEnv({ PORT: String(port), LOG_LEVEL: 'warn', DRAIN_TIMEOUT_MS: '2000' }));
    const health = await waitFor('GET /healthz', () => get(`${base}/healthz`), 60_000).catch((err) => {
      throw new Error(`${err.message}; output:\n${p.out.text}`);
    });
    expect(health).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(groupPids(p.pgid).length).toBeGreaterThanOrEqual(2); // npm and the server
    const commands = groupPs(p.pgid, 'args');
    expect(commands).toContain(command);
    expect(commands.filter((c) => /^(\S*\/)?sh -c/.test(c))).toEqual([]); // the shell exec'd node: nothing in between

    const { exit, groupEmpty } = await terminate(p);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await get(`${base}/healthz`)).toBeNull(); // no longer listening
    expect(groupEmpty).toBe(true);
    expect(p.out.text).not.toMatch(/shutdown timed out|shutdown failed/);
  }, 120_000);

  it('npm run worker: the workers close and the process exits 0 with no process of its group left', async () => {
    const p = spawnNpm(['run', 'worker'], testEnv({ LOG_LEVEL: 'info' }));
    await waitFor('the workers to start', async () => p.out.text.includes('post-call and knowledge workers started'), 60_000).catch((err) => {
      throw new Error(`${err.message}; output:\n${p.out.text}`);
    });
    expect(groupPs(p.pgid, 'args')).toContain('node dist/workers/main.js');
    const { exit, groupEmpty } = await terminate(p);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(groupEmpty).toBe(true);
    expect(p.out.text).toMatch(/"signal":"SIGTERM".*shutting down/);
  }, 120_000);
});
