import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, waitForHealth } from '../src/cli/local-server';

export const ROOT = path.resolve(__dirname, '..');

/** A scrape of `GET /metrics`: Prometheus sample lines by series (`name` or `name{labels}` as written). */
export type MetricsSample = Map<string, number>;

/** A real server process (`src/main.ts`, configured through the environment only) under test. */
export interface ServerProcess {
  pid: number;
  baseUrl: string;
  /** `GET /metrics` with the metrics token. Resets prom-client's event-loop-delay histogram (it is per scrape). */
  scrape(): Promise<MetricsSample>;
  /** SIGTERM (graceful: live calls are ended, rows written), SIGKILL after `timeoutMs`. Resolves on exit. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ServerProcessOptions {
  /** Environment overrides on top of the parent's (PORT is chosen here). */
  env: Record<string, string>;
  /** METRICS_TOKEN of the server (bearer token of `GET /metrics`). */
  metricsToken: string;
  queuePrefix: string;
  fakeTranscript: string;
  /** Max wait for /healthz (ms). */
  startTimeoutMs?: number;
}

/**
 * Starts `node --import tsx src/main.ts` (one Node process, so its pid is the server's) on a free port, with
 * `QUEUE_PREFIX` and `FAKE_STT_TEXT` from the options, and
 * waits until `/healthz` answers. Its stdout/stderr (pino logs; LOG_LEVEL should be warn) go to our stderr, at most
 * 50 lines, so stdout stays the benchmark's JSON lines. With `BENCH_CPU_PROF_DIR` set, the server runs under
 * `--cpu-prof` and writes its V8 CPU profile there when it exits (Node refuses --cpu-prof in NODE_OPTIONS).
 * @throws Error when it exits early or is not healthy within `startTimeoutMs` (default 60 s).
 */
export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...o.env, PORT: String(port), QUEUE_PREFIX: o.queuePrefix, FAKE_STT_TEXT: o.fakeTranscript },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  forwardLines(child, 50);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(baseUrl, o.startTimeoutMs ?? 60_000, child);
  return {
    pid: child.pid!,
    baseUrl,
    scrape: async () => {
      const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${o.metricsToken}` } });
      if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
      return parsePrometheusText(await res.text());
    },
    stop: async (timeoutMs = 20_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Parses Prometheus text exposition lines (`series value`), skipping comments. */
export function parsePrometheusText(text: string): MetricsSample {
  const out: MetricsSample = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

function forwardLines(child: ChildProcess, max: number): void {
  let n = 0;
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      if (n < max) process.stderr.write(`[server] ${line.slice(0, 400)}\n`);
      else if (n === max) process.stderr.write('[server] (further output suppressed)\n');
      n++;
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
}


