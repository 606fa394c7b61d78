import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

/**
 * A throwaway Redis server for fault drills, never the shared one on 6379: `redis-server` on a free port of
 * 127.0.0.1, no persistence (`--save '' --appendonly no`, so a restart loses every key, like a crashed cache node),
 * its working dir in a temp dir, spawned in its own process group so a stop kills exactly it.
 */
export interface PrivateRedis {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Whether the server process is running. */
  running(): boolean;
  /**
   * Stops the server and waits for the process to exit. `SIGKILL` (default) is a crash: clients see the socket drop;
   * `SIGTERM` is a clean shutdown. Connections are refused on the port from then on.
   */
  stop(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts the server again on the same port (empty: nothing was persisted) and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its temp dir. Idempotent. */
  close(): Promise<void>;
}

/** Startup bound (ms): redis-server without persistence answers within a few ms; a busy CI box gets margin. */
const START_TIMEOUT_MS = 10_000;

/**
 * Starts a private Redis (`redis-server` from PATH).
 * @throws Error when redis-server is missing or does not answer PING within 10 s (its stderr/stdout tail is in the message).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const killOnExit = () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killOnExit);

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    output = '';
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      detached: true, // own process group: stop() kills the group, nothing else
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const append = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-2000));
    c.stdout!.on('data', append);
    c.stderr!.on('data', append);
    const spawnError = new Promise<never>((_, reject) => c.once('error', (err) => reject(new Error(`redis-server could not start: ${err.message}`))));
    spawnError.catch(() => undefined);
    const t0 = Date.now();
    for (;;) {
      if (c.exitCode !== null) throw new Error(`redis-server exited with ${c.exitCode}: ${output}`);
      if (await Promise.race([ping(port), spawnError])) return;
      if (Date.now() - t0 > START_TIMEOUT_MS) throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms: ${output}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };

  const stop = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') => {
    const c = child;
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    try {
      process.kill(-c.pid, signal);
    } catch {
      return;
    }
    await exited;
  };

  await start();
  let closed = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    stop,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      await stop('SIGKILL');
      process.removeListener('exit', killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when 127.0.0.1:`port` answers `PING` with `+PONG` within 500 ms. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}
