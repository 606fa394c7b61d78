import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster for fault drills, never the shared server on 5432: `initdb` into a temp dir
 * (trust auth, no fsync), `pg_ctl start` on a free port of 127.0.0.1 with its unix socket in the same temp dir.
 * PostgreSQL refuses to run as root, so when this process is root every command runs as the `postgres` OS user
 * (`runuser -u postgres --`) and the temp dir is chowned to it. The version dir is found under /usr/lib/postgresql
 * (the newest one that has bin/initdb), or taken from PG_BIN_DIR.
 */
export interface PrivatePostgres {
  port: number;
  /** Data + socket + log dir (removed by close()). */
  dir: string;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (default database `postgres`). */
  url(database?: string): string;
  /** Stops the server (`pg_ctl stop -m fast`: open sessions are terminated, clients see their connections drop). */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections (`pg_ctl start -w`). */
  start(): Promise<void>;
  /** Stops (immediate) and removes the dir. Idempotent. */
  close(): Promise<void>;
}

/** Finds `…/bin` of the newest PostgreSQL under /usr/lib/postgresql that has initdb (or PG_BIN_DIR). @throws when none. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (!versions.length) throw new Error(`no PostgreSQL server binaries (bin/initdb) under ${root}; set PG_BIN_DIR`);
  return path.join(root, versions[0], 'bin');
}

/**
 * initdb + start a private cluster (≈ 1.5 s on this machine).
 * @throws Error with the server log's tail when initdb or the start fails.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-pg-'));
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const port = await freePort();
  const cmd = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  const pgCtl = async (args: string[], timeoutMs = 20_000) => {
    const [file, argv] = cmd('pg_ctl', ['-D', data, ...args]);
    try {
      await run(file, argv, { timeout: timeoutMs });
    } catch (err) {
      const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-1500) : '';
      throw new Error(`pg_ctl ${args.join(' ')} failed: ${(err as Error).message}\n${tail}`);
    }
  };
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => pgCtl(['-o', opts, '-l', log, '-w', '-t', '15', 'start']);
  const stop = () => pgCtl(['-m', 'fast', '-w', '-t', '15', 'stop']);
  const killOnExit = () => {
    try {
      const [file, argv] = cmd('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore', timeout: 5_000 });
    } catch {
      /* not running */
    }
  };

  try {
    const [file, argv] = cmd('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C']);
    await run(file, argv, { timeout: 60_000 });
    await start();
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  process.once('exit', killOnExit);
  let closed = false;
  return {
    port,
    dir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      process.removeListener('exit', killOnExit);
      await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
