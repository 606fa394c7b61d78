import { loadConfig } from '../src/config';
import { CallsRepo } from '../src/db/calls';
import { createDb } from '../src/db/knex';
import { createPostCallQueue, createRedisConnection } from '../src/jobs/queues';
import { startSweeper } from '../src/jobs/sweeper';
import { createLogger } from '../src/logger';
import { buildProviders } from '../src/providers/registry';
import { buildCallAnalyzer } from '../src/providers/call-analyzer';
import { DEFAULT_LLM_ANALYSIS_TIMEOUT_MS } from '../src/analytics/call-analysis';
import { startWorkers } from './index';
import { closeOnSignal, runMain } from '../src/process-lifecycle';
import { startDispatcher } from '../src/campaigns/start-dispatcher';
import { RecordingsRepo } from '../src/db/recordings';
import { openRecordingStorage } from '../src/recordings/open-storage';
import { startRecordingRetention } from '../src/recordings/retention';
import { startWebhookDelivery } from '../src/webhooks/start';
import { crmConnectorDeps } from '../src/webhooks/config';

/**
 * `npm run worker` entrypoint (`tsx workers/main.ts`): loads Config, connects Postgres and Redis, runs the post-call
 * and knowledge-ingestion Workers, the sweeper, the recordings' retention job (RECORDINGS_RETENTION_DAYS > 0), the webhook outbox relay and delivery Worker and (DISPATCHER_ENABLED) the outbound campaign dispatcher, and shuts down gracefully on SIGTERM/SIGINT (active jobs finish via `worker.close()`).
 * Exits 1 on invalid configuration.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'callcenter-worker');
  const db = createDb(config.databaseUrl);
  const workerRedis = createRedisConnection(config.redisUrl, 'worker');
  // Knowledge ingestion embeds with the same embedder and writes to the same vector store the server retrieves from.
  const { embedder, vectors } = buildProviders(config, { db, logger });
  const workers = startWorkers({
    db,
    connection: workerRedis,
    prefix: config.queuePrefix,
    logger,
    crm: config.crm,
    connectors: { ...crmConnectorDeps(config), publicBaseUrl: config.publicBaseUrl },
    knowledge: { embedder, vectors },
    // Post-call analysis: OpenAI structured output when the server's LLM is OpenAI, else the offline analyzer.
    analysis: { llm: buildCallAnalyzer(config, DEFAULT_LLM_ANALYSIS_TIMEOUT_MS), llmTimeoutMs: DEFAULT_LLM_ANALYSIS_TIMEOUT_MS },
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
  });
  // The sweeper enqueues through its own producer connection (fails fast while Redis is down; retried next sweep).
  const producerRedis = createRedisConnection(config.redisUrl, 'producer');
  const sweeperQueue = createPostCallQueue(producerRedis, { prefix: config.queuePrefix });
  sweeperQueue.on('error', (err) => logger.warn({ err: err.message }, 'sweeper queue error'));
  const sweeper = startSweeper({ queue: sweeperQueue, calls: new CallsRepo(db), logger });
  // Outbound campaigns: several workers may each run a dispatcher (claims and ceilings are shared through Postgres, CPS
  // spacing through Redis on the fail-fast producer connection, so a Redis outage gives claims back instead of hanging).
  const dispatcher = config.outbound.dispatcherEnabled ? startDispatcher({ config, db, redis: producerRedis, logger }) : null;
  // Recordings past RECORDINGS_RETENTION_DAYS: file or object, then row (local storage: RECORDINGS_DIR must be the server's).
  const retention =
    config.recordings.retentionDays > 0
      ? startRecordingRetention({ recordings: new RecordingsRepo(db), storage: openRecordingStorage(config.recordings), logger, retentionDays: config.recordings.retentionDays })
      : null;
  // Signed event webhooks: the outbox relay (producer connection: a Redis outage leaves rows unrelayed, retried next
  // tick) and the delivery Worker (blocking worker connection).
  const webhooks = startWebhookDelivery({ config, db, workerConnection: workerRedis, producerConnection: producerRedis, logger });
  logger.info({ crmWebhook: config.crm.webhookUrl ? new URL(config.crm.webhookUrl).host : null }, 'post-call and knowledge workers started');

  closeOnSignal(logger, 30_000, async () => {
    await dispatcher?.stop();
    await sweeper.stop();
    await retention?.stop();
    await webhooks?.stop();
    await workers.close();
    await sweeperQueue.close();
    workerRedis.disconnect();
    producerRedis.disconnect();
    await db.destroy();
  });
}

runMain(main);
