import { loadConfig } from './config';
import { createLogger } from './logger';
import { buildAppContext } from './context';
import { startServer } from './server';
import { closeOnSignal, runMain } from './process-lifecycle';

/** Composition root for `npm start`: config → context (db, queue, providers) → HTTP + WebSocket server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'server');
  const ctx = await buildAppContext(config, logger);
  const running = await startServer(config, ctx);
  // Live calls are ended (rows written, post-call jobs enqueued) before the process exits.
  closeOnSignal(logger, 15_000, async () => {
    await running.close();
    await ctx.close();
  });
}

runMain(main);
