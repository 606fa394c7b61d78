import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './server-process';
import type { FromLoadgen, LoadgenEvent, LoadResult, LoadSpec, ToLoadgen } from './loadgen-protocol';

/** The orchestrator's handle on the load generator process (bench/load-generator.ts). */
export interface LoadGenerator {
  pid: number;
  /** Runs one load; `onEvent` hears `all_live` / `first_done` as they happen (epoch ms). @throws Error from the generator. */
  run(spec: LoadSpec, onEvent?: (event: LoadgenEvent, atEpochMs: number) => void): Promise<LoadResult>;
  close(): Promise<void>;
}

/**
 * Forks the load generator (`node --import tsx bench/load-generator.ts`, IPC with structured-clone serialization),
 * hands it the caller recordings and resolves once it is ready. Its stdout/stderr go to our stderr.
 */
export async function startLoadGenerator(recordings: Uint8Array[]): Promise<LoadGenerator> {
  const child: ChildProcess = fork(path.join(ROOT, 'bench/load-generator.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', process.stderr, process.stderr, 'ipc'],
  });
  const post = (m: ToLoadgen) => child.send(m);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromLoadgen) => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    post({ type: 'init', recordings });
  });
  let nextId = 1;
  return {
    pid: child.pid!,
    run: (spec, onEvent) =>
      new Promise<LoadResult>((resolve, reject) => {
        const id = nextId++;
        const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code} during a run`));
        const onMessage = (m: FromLoadgen) => {
          if (m.type === 'ready' || m.id !== id) return;
          if (m.type === 'event') return onEvent?.(m.event, m.atEpochMs);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (m.type === 'result') resolve(m.result);
          else reject(new Error(`load generator: ${m.message}`));
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        post({ type: 'run', id, spec });
      }),
    close: async () => {
      if (child.exitCode === null && child.connected) post({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
