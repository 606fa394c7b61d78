import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from './config';
import { createDb } from './db/knex';
import { CallsRepo } from './db/calls';
import { AgentsRepo } from './db/agents';
import { buildProviders, type Providers } from './providers/registry';
import { KnowledgeRetriever } from './knowledge/retrieve';
import { createPostCallQueue, createRedisConnection, type PostCallQueue } from './jobs/queues';
import { enqueuePostCall } from './jobs/post-call';
import { SileroVad } from './engine/vad';
import { TurnDetector } from './engine/turn-detector';
import type { TurnDetectorLike } from './engine/call-session';
import type { Retriever } from './engine/conversation';

/** Everything the server needs, built once from Config (the composition root's product). */
export interface AppContext {
  logger: Logger;
  db: Knex;
  calls: CallsRepo;
  agents: AgentsRepo;
  providers: Providers;
  retriever: Retriever;
  queue: PostCallQueue;
  createTurnDetector(): Promise<TurnDetectorLike>;
  enqueuePostCall(callSid: string): Promise<void>;
  close(): Promise<void>;
}

export interface ContextOverrides {
  providers?: Partial<Providers>;
  queuePrefix?: string;
}

/**
 * Builds db, queue, providers and the VAD from Config. Providers can be overridden (tests inject fakes).
 * The Silero model is loaded here so the first call does not pay for it.
 */
export async function buildAppContext(config: Readonly<Config>, logger: Logger, o: ContextOverrides = {}): Promise<AppContext> {
  const db = createDb(config.databaseUrl);
  const calls = new CallsRepo(db);
  const agents = new AgentsRepo(db);
  const providers = { ...buildProviders(config, { db, logger }), ...o.providers };
  const retriever = new KnowledgeRetriever({ embedder: providers.embedder, vectors: providers.vectors });
  const redis = createRedisConnection(config.redisUrl, 'producer');
  const queue = createPostCallQueue(redis, { prefix: o.queuePrefix });
  // Without a listener BullMQ prints Redis outages to stderr; the sweeper re-enqueues what was missed.
  queue.on('error', (err) => logger.warn({ err: err.message }, 'post-call queue error'));
  const vad = await SileroVad.load();
  await providers.stt.warmup?.().catch((err) => logger.warn({ err: err instanceof Error ? err.message : err }, 'STT warm-up failed; will retry on first use'));
  const e = config.engine;
  return {
    logger,
    db,
    calls,
    agents,
    providers,
    retriever,
    queue,
    createTurnDetector: async () =>
      new TurnDetector(vad.createStream(), {
        silenceMs: e.endpointingSilenceMs,
        minSpeechMs: e.vadMinSpeechMs,
        maxUtteranceMs: e.maxUtteranceMs,
        positiveThreshold: e.vadPositiveThreshold,
        negativeThreshold: e.vadNegativeThreshold,
      }),
    enqueuePostCall: (callSid) => enqueuePostCall(queue, calls, callSid),
    close: async () => {
      await Promise.allSettled([providers.stt.close?.(), queue.close()]);
      redis.disconnect();
      await db.destroy();
    },
  };
}
