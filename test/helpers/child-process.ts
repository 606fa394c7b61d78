import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, waitForReady } from '../../src/cli/local-server';

const ROOT = path.resolve(__dirname, '../..');

/** A real entry point (`node --import tsx <entry>`) running in its own process group. */
export interface EntryProcess {
  child: ChildProcess;
  /** The last 20,000 characters of its stdout + stderr (for a failure message). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** SIGTERM to the whole group, SIGKILL to it after `timeoutMs` (default 15 s); resolves once the leader exited. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Spawns `node --import tsx <entry>` (relative to the repository root, e.g. `src/main.ts`, `workers/main.ts`) with
 * the parent's environment plus `env`, detached into its own process group (pgid = its pid) so that {@link
 * EntryProcess.stop} reaches every process it started (Moonshine / VAD worker threads live inside it; espeak-ng children
 * do not). Output is kept, not printed.
 */
export function spawnEntry(entry: string, env: Record<string, string>): EntryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* the group is gone */
    }
  };
  return {
    child,
    output: () => out,
    exited,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      signal('SIGKILL'); // whatever of the group outlived its leader
    },
  };
}

/**
 * A server process (`src/main.ts`) on a free port, started with {@link spawnEntry} and awaited until `GET /readyz`
 * answers (database, Redis, warm STT).
 * @returns the process and its origin (`http://127.0.0.1:<port>`).
 * @throws Error (with the process output) when it is not ready within `timeoutMs`; the process is then stopped.
 */
export async function startServerEntry(env: Record<string, string>, timeoutMs = 90_000): Promise<EntryProcess & { origin: string }> {
  const port = await freePort();
  const p = spawnEntry('src/main.ts', { ...env, PORT: String(port) });
  const origin = `http://127.0.0.1:${port}`;
  const died = p.exited.then(() => {
    throw new Error(`server exited before it was ready:\n${p.output()}`);
  });
  try {
    await Promise.race([waitForReady(origin, timeoutMs), died]);
  } catch (err) {
    await p.stop(2_000);
    throw new Error(`${(err as Error).message}\n${p.output().slice(-4_000)}`);
  }
  void died.catch(() => undefined);
  return { ...p, origin };
}
