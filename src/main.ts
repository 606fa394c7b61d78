import { loadConfig } from './config';
import { createLogger } from './logger';
import { buildAppContext } from './context';
import { DRAIN_GRACE_MS, startServer } from './server';
import { closeOnSignal, runMain } from './process-lifecycle';

/** Composition root for `npm start`: config → context (db, queue, providers) → HTTP + WebSocket server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'server');
  const ctx = await buildAppContext(config, logger);
  const running = await startServer(config, ctx);
  // SIGTERM/SIGINT drain: no new calls, live ones go on for DRAIN_TIMEOUT_MS, then goodbye and hang-up; every row is
  // written and post-call jobs enqueued before the process exits 0. The hard timeout covers drain + grace + closing.
  closeOnSignal(logger, config.drainTimeoutMs + DRAIN_GRACE_MS + 15_000, async () => {
    await running.drain();
    await running.close();
    await ctx.close();
  });
}

runMain(main);
