import { loadConfig } from '../src/config';
import { CallsRepo } from '../src/db/calls';
import { createDb } from '../src/db/knex';
import { createPostCallQueue, createRedisConnection } from '../src/jobs/queues';
import { startSweeper } from '../src/jobs/sweeper';
import { createLogger } from '../src/logger';
import { startWorkers } from './index';

/**
 * `npm run worker` entrypoint (`tsx workers/main.ts`): loads Config, connects Postgres and Redis, runs the post-call
 * Worker and the sweeper, and shuts down gracefully on SIGTERM/SIGINT (active jobs finish via `worker.close()`).
 * Exits 1 on invalid configuration.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'callcenter-worker');
  const db = createDb(config.databaseUrl);
  const workerRedis = createRedisConnection(config.redisUrl, 'worker');
  const workers = startWorkers({ db, connection: workerRedis, logger, crm: config.crm });
  // The sweeper enqueues through its own producer connection (fails fast while Redis is down; retried next sweep).
  const producerRedis = createRedisConnection(config.redisUrl, 'producer');
  const sweeperQueue = createPostCallQueue(producerRedis);
  const sweeper = startSweeper({ queue: sweeperQueue, calls: new CallsRepo(db), logger });
  logger.info({ crmWebhook: config.crm.webhookUrl ? new URL(config.crm.webhookUrl).host : null }, 'post-call workers started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down post-call workers');
    const force = setTimeout(() => process.exit(1), 30_000).unref();
    try {
      await sweeper.stop();
      await workers.close();
      await sweeperQueue.close();
      workerRedis.disconnect();
      producerRedis.disconnect();
      await db.destroy();
      clearTimeout(force);
      process.exit(0);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  // ConfigError lists the offending variables without echoing their values.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
