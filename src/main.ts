import { loadConfig } from './config';
import { createLogger } from './logger';
import { buildAppContext } from './context';
import { startServer } from './server';

/** Composition root for `npm start`: config → context (db, queue, providers) → HTTP + WebSocket server. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'server');
  const ctx = await buildAppContext(config, logger);
  const running = await startServer(config, ctx);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Live calls are ended (rows written, post-call jobs enqueued) before the process exits; never hang on it.
    setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, 15_000).unref();
    try {
      await running.close();
      await ctx.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  // eslint-disable-next-line no-console
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
