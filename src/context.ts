import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from './config';
import { createDb } from './db/knex';
import { CallsRepo } from './db/calls';
import { UsageRepo } from './db/usage';
import { AgentsRepo } from './db/agents';
import { buildProviders, type Providers } from './providers/registry';
import { KnowledgeRetriever } from './knowledge/retrieve';
import { createPostCallQueue, createRedisConnection, type PostCallQueue } from './jobs/queues';
import { enqueuePostCall } from './jobs/post-call';
import { createKnowledgeQueue, type KnowledgeQueue } from './jobs/knowledge-queue';
import { SileroVad, type VadStream } from './engine/vad';
import { endpointingFor } from './domain/call-settings';
import type { AgentEndpointing } from './domain/agent-settings';
import { TurnDetector } from './engine/turn-detector';
import type { TurnDetectorLike } from './engine/inbound-audio';
import type { Retriever } from './engine/conversation';
import { createMetrics, type Metrics } from './metrics/metrics';
import { TwilioCallControl, type CallControl } from './telephony/call-control';
import { ApologyCache } from './engine/apology-cache';
import { CALL_CONTROL_PHRASES } from './engine/call-control-phrases';
import { LocalEspeakTts } from './providers/tts/local-espeak';
import { LocalResponder } from './providers/llm/local-responder';
import type { RequestClient } from 'twilio';
import { rebasedRequestClient } from './campaigns/dialer';
import type { ReadinessCheck } from './http/readiness';
import { Redis } from 'ioredis';

/** Everything the server needs, built once from Config (the composition root's product). */
export interface AppContext {
  logger: Logger;
  db: Knex;
  calls: CallsRepo;
  agents: AgentsRepo;
  providers: Providers;
  retriever: Retriever;
  queue: PostCallQueue;
  /** Producer handle on the `knowledge` ingestion queue (same Redis connection and prefix as `queue`). */
  knowledgeQueue: KnowledgeQueue;
  /**
   * Redis of the API's sessions, rate limits and login-failure counters: its own connection, with an offline queue
   * (commands issued while it (re)connects wait) and one retry per command (a Redis outage fails requests fast).
   */
  authRedis: Redis;
  /** Key prefix in {@link authRedis}: the queue prefix (`QUEUE_PREFIX`, or the override tests pass). */
  authRedisPrefix: string;
  /** The process's Prometheus metrics (one registry per process; served by `GET /metrics`). */
  metrics: Metrics;
  /** Transfer and hangup of live calls (Twilio REST). */
  callControl: CallControl;
  /** The outage apology per language, pre-rendered with the offline TTS. */
  apology: ApologyCache;
  /** The dead-air filler ("One moment, please.") per language, pre-rendered with the offline TTS. */
  filler: ApologyCache;
  /** "Sorry, I didn't catch that" per language (a failed transcription), pre-rendered with the offline TTS. */
  didNotCatch: ApologyCache;
  notUnderstood: ApologyCache;
  /** Offline intent classifier, for LLMs that report no intent. */
  classifyIntent(text: string, intents: string[], language: string): { intent: string; confidence: number };
  /**
   * A fresh VAD + endpointing detector for one call: the agent's `endpointing` overrides (`silenceMs`, `minSpeechMs`,
   * `bargeInMinSpeechMs`) replace ENDPOINTING_SILENCE_MS, VAD_MIN_SPEECH_MS and BARGE_IN_MIN_SPEECH_MS.
   */
  createTurnDetector(endpointing?: AgentEndpointing): Promise<TurnDetectorLike>;
  enqueuePostCall(callSid: string): Promise<void>;
  /**
   * Dependency checks behind `GET /readyz`: `postgres` (`select 1`), `redis` (PING on the producer connection),
   * `vad` (the Silero model is loaded) and `stt` (the STT warmed up; after a failed warm-up each probe retries it).
   */
  readinessChecks: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

export interface ContextOverrides {
  providers?: Partial<Providers>;
  queuePrefix?: string;
  /** Metrics to use instead of a fresh {@link createMetrics} registry (tests assert on their own). */
  metrics?: Metrics;
  /** Transport of the twilio REST client (tests inject a double that checks the wire). */
  twilioHttpClient?: RequestClient;
  /** Each call's VAD stream instead of Silero's (tests: an energy VAD, deterministic on synthetic audio). */
  createVadStream?: () => VadStream;
}

/**
 * Builds db, queue, metrics, providers and the VAD from Config. Providers can be overridden (tests inject fakes).
 * The Silero model is loaded here so the first call does not pay for it.
 */
export async function buildAppContext(config: Readonly<Config>, logger: Logger, o: ContextOverrides = {}): Promise<AppContext> {
  const db = createDb(config.databaseUrl);
  const calls = new CallsRepo(db, new UsageRepo(db, config.usage.prices));
  const agents = new AgentsRepo(db);
  const metrics = o.metrics ?? createMetrics();
  const built = buildProviders(config, { db, logger, metrics });
  const providers = { ...built, ...o.providers };
  const retriever = new KnowledgeRetriever({ embedder: providers.embedder, vectors: providers.vectors });
  const redis = createRedisConnection(config.redisUrl, 'producer');
  const queue = createPostCallQueue(redis, { prefix: o.queuePrefix ?? config.queuePrefix });
  // Without a listener BullMQ prints Redis outages to stderr; the sweeper re-enqueues what was missed.
  queue.on('error', (err) => logger.warn({ err: err.message }, 'post-call queue error'));
  const authRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  authRedis.on('error', (err) => logger.warn({ err: err.message }, 'auth redis error'));
  const knowledgeQueue = createKnowledgeQueue(redis, { prefix: o.queuePrefix ?? config.queuePrefix });
  knowledgeQueue.on('error', (err) => logger.warn({ err: err.message }, 'knowledge queue error'));
  // Hang-ups and transfers go where calls.create goes (TWILIO_API_BASE_URL: an emulator stands in for Twilio completely).
  const callControl = new TwilioCallControl({ accountSid: config.twilio.accountSid, authToken: config.twilio.authToken, httpClient: rebasedRequestClient(config.outbound.twilioApiBaseUrl, o.twilioHttpClient), publicBaseUrl: config.publicBaseUrl });
  const classifier = new LocalResponder(); // its own hashing embedder: classification never calls a cloud provider
  // Start-up work runs side by side: the VAD model, the STT warm-up, and the apology and filler audio, rendered
  // offline once (they must play when every provider is down).
  const espeak = new LocalEspeakTts({ bin: config.local.espeakBin, logger });
  // STT readiness: true once warm-up succeeded (or the provider has none); a failed warm-up is retried by /readyz.
  let sttWarm = !providers.stt.warmup;
  let sttWarming: Promise<void> | null = null;
  const warmStt = (): Promise<void> =>
    (sttWarming ??= Promise.resolve()
      .then(() => providers.stt.warmup?.())
      .then(() => {
        sttWarm = true;
      })
      .finally(() => {
        sttWarming = null;
      }));
  const [vad, apology, filler, didNotCatch, notUnderstood] = await Promise.all([
    SileroVad.load(),
    ApologyCache.build({ tts: espeak, logger }),
    ApologyCache.build({ tts: espeak, logger, phrases: CALL_CONTROL_PHRASES.oneMoment }),
    ApologyCache.build({ tts: espeak, logger, phrases: CALL_CONTROL_PHRASES.didNotCatch }),
    ApologyCache.build({ tts: espeak, logger, phrases: CALL_CONTROL_PHRASES.notUnderstood }),
    warmStt().catch((err) => logger.warn({ err: err instanceof Error ? err.message : err }, 'STT warm-up failed; will retry on first use')),
  ]);
  const e = config.engine;
  const serverEndpointing = {
    silenceMs: e.endpointingSilenceMs,
    completeMs: e.endpointingCompleteMs,
    continuingMs: e.endpointingContinuingMs,
    minSpeechMs: e.vadMinSpeechMs,
    bargeInMinSpeechMs: e.bargeInMinSpeechMs,
  };
  return {
    logger,
    db,
    calls,
    agents,
    providers,
    retriever,
    queue,
    knowledgeQueue,
    authRedis,
    authRedisPrefix: o.queuePrefix ?? config.queuePrefix,
    metrics,
    callControl,
    apology,
    filler,
    didNotCatch,
    notUnderstood,
    classifyIntent: (text, intents, language) => classifier.classify(text, intents, language),
    createTurnDetector: async (endpointing = {}) => {
      const ep = endpointingFor({ endpointing }, serverEndpointing);
      // A failed VAD window fails only itself (the call goes on, see vad.ts); each one is counted.
      const stream = o.createVadStream?.() ?? vad.createStream({ onFailedWindows: (n) => metrics.vadFailedWindows.inc(n), quietGateDbfs: e.vadQuietGateDbfs });
      return new TurnDetector(stream, {
        silenceMs: ep.silenceMs,
        pauseMs: e.speculativeSttPauseMs,
        minSpeechMs: ep.minSpeechMs,
        maxUtteranceMs: e.maxUtteranceMs,
        positiveThreshold: e.vadPositiveThreshold,
        negativeThreshold: e.vadNegativeThreshold,
        bargeInMinSpeechMs: ep.bargeInMinSpeechMs,
      });
    },
    enqueuePostCall: (callSid) => enqueuePostCall(queue, calls, callSid),
    readinessChecks: {
      postgres: async () => {
        await db.raw('select 1');
      },
      redis: async () => {
        const pong = await redis.ping();
        if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
      },
      vad: async () => {
        if (!vad) throw new Error('VAD model not loaded');
      },
      stt: async () => {
        if (!sttWarm) await warmStt();
      },
    },
    close: async () => {
      await Promise.allSettled([built.close(), o.providers?.stt?.close?.(), queue.close(), knowledgeQueue.close(), vad.close()]);
      redis.disconnect();
      authRedis.disconnect();
      await db.destroy();
    },
  };
}
