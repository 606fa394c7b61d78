import type { Logger } from 'pino';

/**
 * Runs `close` once on the first SIGTERM or SIGINT, then exits 0; exits 1 if `close` throws or takes longer than
 * `timeoutMs` (the timer is unref'd so it never keeps a finished process alive). Used by `npm start` and
 * `npm run worker`.
 */
export function closeOnSignal(logger: Logger, timeoutMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    try {
      await close();
      process.exit(0);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * Runs an entrypoint; a startup failure prints its message (ConfigError lists the offending variables without their
 * values) and exits 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
