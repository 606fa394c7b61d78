import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config';
import type { AppContext } from './context';
import { createApp } from './http/app';
import { createTwilioWhisperRouter } from './http/routes/twilio-whisper';
import { createTwilioRouter, MEDIA_STREAM_PATH } from './http/routes/twilio';
import { createOutboundStatusRouter } from './http/routes/twilio-outbound-status';
import { inProgressLeaseMs } from './campaigns/dialer';
import { createTwilioDialer, usageBudgets } from './campaigns/start-dispatcher';
import { createApiRouter } from './http/routes/api';
import { managementRoutes } from './http/api';
import { createKnowledgeRouter } from './http/routes/knowledge';
import { createMetricsRouter } from './http/routes/metrics';
import { createWebUiRouter } from './http/routes/web-ui';
import type { ApiRoute } from './http/api/route';
import type { DialerPort } from './campaigns/dialer-port';
import { attachMediaStreamServer, connectionOptions } from './telephony/media-stream-server';
import { upgradeRoutes } from './telephony/upgrade-routes';
import { WebCallRegistry } from './telephony/web-calls';
import { createWebCallRouter, WEB_CALL_PATH } from './http/web-call/router';
import { WebCallSlots } from './http/web-call/slots';
import { upgradeThroughApp } from './http/web-call/upgrade';
import { createSessionFactory } from './session-factory';
import type { CallSession } from './engine/call-session';
import { toolSpecsFor } from './tools/builtin';
import { executeHttpTool } from './tools/http-tool';
import { createTwilioOutboundRouter } from './http/routes/twilio-outbound';
import { OutboundOutcomesRepo } from './db/outbound-outcomes';
import { AmdBus } from './jobs/amd-bus';
import { AuditRepo } from './db/audit';
import { liveRoutes } from './http/api/live';
import { upgradeAuthenticator } from './http/auth/upgrade-auth';
import { attachLiveListen } from './http/routes/live-listen';
import { startLiveCalls, type LiveService } from './live-calls';
import { RecordingsRepo } from './db/recordings';
import { openRecordingStorage } from './recordings/open-storage';
import { recordingTaps } from './recordings/recording-writer';
import { startPartialRecordingSweep } from './recordings/partial-sweep';
import type { RecordingStorage } from './recordings/storage';
import { crmConnectorDeps, webhookApiDeps } from './webhooks/config';
import { createWebhookQueue } from './webhooks/delivery-queue';
import { createQueueBoardRouter, queueBoardAliasRouter } from './http/routes/queue-board';
import { createInboundTriggersRouter } from './http/inbound-triggers';
import { requestRateLimit } from './http/auth/rate-limit';

export interface RunningServer {
  port: number;
  server: http.Server;
  /** Live call sessions by callSid (a session leaves once it has ended: rows written, post-call jobs enqueued). */
  live: Map<string, CallSession>;
  /** This process's live-calls feed, supervisor commands and listen-in relay (see src/live-calls.ts). */
  liveService: LiveService;
  /** True from the first {@link RunningServer.drain} call on. */
  readonly draining: boolean;
  /**
   * Graceful drain (what SIGTERM does; idempotent, later calls return the same promise). At once: `GET /readyz`
   * answers 503 `draining`, `metrics.draining` is 1, and new calls (`POST /twilio/voice`) get a busy message and
   * `<Hangup/>`. Live calls go on until they end or `config.drainTimeoutMs` passes; then each remaining call gets
   * `hangUp('drain')` (the agent says goodbye, end reason `drain`, hung up over Twilio REST). Calls still live
   * `drainGraceMs` later are ended with `end('server shutdown')`. Resolves once every call has ended (rows written,
   * post-call jobs enqueued); the listener stays open (status callbacks still arrive) until {@link close}.
   */
  drain(): Promise<void>;
  /** Stops accepting, ends live calls (their rows are written and post-call jobs enqueued), closes the listener. */
  close(): Promise<void>;
}

/** Default grace after the drain's goodbyes before calls still live are ended without one (ms). */
export const DRAIN_GRACE_MS = 10_000;

export interface StartServerOptions {
  /** How long calls hung up by the drain may take to end (goodbye playing, Twilio's `stop`) (ms); default {@link DRAIN_GRACE_MS}. */
  drainGraceMs?: number;
  /** Per-check timeout of `GET /readyz` (ms); default 1000. */
  readinessTimeoutMs?: number;
  /** Redis key prefix of sessions and rate limits; default `ctx.authRedisPrefix`. */
  redisPrefix?: string;
  /** Route-table routes of other modules, mounted in the authenticated API (see `createApiRouter`). */
  apiRoutes?: ReadonlyArray<ApiRoute<any, any, any>>;
  /** Places single outbound calls (`POST /api/calls`); without it that route answers 503. */
  dialer?: DialerPort;
  /** Where recordings are stored and served from; default from `config.recordings` (RECORDINGS_DIR or S3). */
  recordingStorage?: RecordingStorage;
  /** The built dashboard served at `/` (see `createWebUiRouter`); default `<package root>/dist/web`. */
  webUiDir?: string;
}

/**
 * The live-call map, which can also be awaited until it is empty (the session factory deletes a call once its
 * session has ended).
 */
class LiveCalls extends Map<string, CallSession> {
  private waiters = new Set<() => void>();

  override delete(key: string): boolean {
    const deleted = super.delete(key);
    if (this.size === 0) for (const w of [...this.waiters]) w();
    return deleted;
  }

  /** Resolves true once no call is live, false if some still are after `timeoutMs`. */
  waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (empty: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(onEmpty);
        resolve(empty);
      };
      const onEmpty = () => done(true);
      const timer = setTimeout(() => done(this.size === 0), timeoutMs);
      this.waiters.add(onEmpty);
    });
  }
}

/**
 * Starts the HTTP server (Twilio webhooks, REST API, `GET /healthz`, `GET /readyz`, `GET /metrics` when
 * `config.metricsEnabled` and a metrics token is configured, the dashboard at `/`) and the Media Streams WebSocket server on
 * `config.port` (0 = ephemeral). Resolves once listening.
 */
export async function startServer(config: Readonly<Config>, ctx: AppContext, o: StartServerOptions = {}): Promise<RunningServer> {
  const live = new LiveCalls();
  const outcomes = new OutboundOutcomesRepo(ctx.db);
  const budgets = usageBudgets({ config, db: ctx.db, logger: ctx.logger });
  // Budgets are also checked by every dial and budget read; this catches an 80 % / 100 % level on inbound-only traffic.
  const budgetTimer = Object.keys(config.usage.budgets).length
    ? setInterval(() => void budgets.report().catch((err) => ctx.logger.warn({ err: (err as Error).message }, 'usage budget check failed')), 60_000).unref()
    : null;
  // The process's one Redis subscriber connection: AMD results and live calls reach the process holding the call's
  // media stream through Redis pub/sub (see AmdBus, src/live-calls.ts).
  const subscriber = ctx.authRedis.duplicate();
  subscriber.on('error', (err) => ctx.logger.warn({ err: err.message }, 'subscriber redis error'));
  const amd = AmdBus.start({
    publisher: ctx.authRedis,
    subscriber,
    prefix: o.redisPrefix ?? ctx.authRedisPrefix,
    deliver: (m) => live.get(m.callSid)?.onAnsweredBy(m.answeredBy),
    logger: ctx.logger,
  });
  const liveService = startLiveCalls({ redis: ctx.authRedis, subscriber, prefix: o.redisPrefix ?? ctx.authRedisPrefix, logger: ctx.logger, session: (callSid) => live.get(callSid) });
  const audit = new AuditRepo(ctx.db);
  if (config.metricsEnabled && !config.auth.metricsToken) ctx.logger.warn('GET /metrics is not served: set METRICS_TOKEN to enable it');
  let draining = false;
  let drained: Promise<void> | null = null;
  // Recordings are served whatever RECORDINGS_ENABLED says (it only stops new ones from being written).
  const recordingStorage = o.recordingStorage ?? openRecordingStorage(config.recordings);
  // Partial files are per host (local disk even with S3): the server that writes them sweeps what crashes left.
  const partialSweep = startPartialRecordingSweep({ dir: recordingStorage.partialDir, logger: ctx.logger });
  // Phone calls (Twilio's media stream) and browser test calls (/api/web-call) run through this one factory.
  const webCalls = new WebCallRegistry();
  const createHandler = createSessionFactory({
    calls: ctx.calls,
    agents: ctx.agents,
    stt: ctx.providers.stt,
    tts: ctx.providers.tts,
    llm: ctx.providers.llm,
    retriever: ctx.retriever,
    createTurnDetector: ctx.createTurnDetector,
    providersFor: (choice) => ctx.providers.forAgent(choice),
    onCallEnded: ctx.enqueuePostCall,
    live,
    callControl: webCalls.callControl(ctx.callControl),
    onTurn: (callSid, turn) => webCalls.onTurn(callSid, turn),
    metrics: ctx.metrics,
    limits: {
      silenceRepromptMs: config.engine.silenceRepromptMs,
      maxReprompts: config.engine.maxReprompts,
      maxCallDurationMs: config.engine.maxCallDurationMs,
      deadAirMs: config.engine.deadAirFillerMs,
      minSttConfidence: config.engine.minSttConfidence,
    },
    apology: ctx.apology,
    filler: ctx.filler,
    didNotCatch: ctx.didNotCatch,
    notUnderstood: ctx.notUnderstood,
    adaptiveEndpointing: config.engine.adaptiveEndpointing
      ? { completeMs: config.engine.endpointingCompleteMs, defaultMs: config.engine.endpointingSilenceMs, continuingMs: config.engine.endpointingContinuingMs }
      : null,
    classifyIntent: ctx.classifyIntent,
    toolsFor: toolSpecsFor,
    outbound: { repo: outcomes, greetingWaitMs: config.engine.outboundGreetingWaitMs },
    httpTool: (spec, args, o) => executeHttpTool(spec, args, o),
    taps: [liveService.tap, ...(config.recordings.enabled ? [recordingTaps({ storage: recordingStorage, recordings: new RecordingsRepo(ctx.db), events: ctx.calls, logger: ctx.logger })] : [])],
    store: liveService.store(ctx.calls),
  });
  const streamLimits = connectionOptions({ maxAheadMs: config.media.maxAheadMs, metrics: ctx.metrics });
  const webCallRouter = createWebCallRouter({
    calls: ctx.calls,
    agents: ctx.agents,
    slots: new WebCallSlots({
      redis: ctx.authRedis,
      keyPrefix: `${o.redisPrefix ?? ctx.authRedisPrefix}:webcall`,
      perOwner: config.webCalls.perUser,
      onError: (err) => ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'web call slot refresh/release failed'),
    }),
    registry: webCalls,
    createHandler,
    limits: streamLimits,
    publicBaseUrl: config.publicBaseUrl,
    logger: ctx.logger,
    draining: () => draining,
  });
  // Bull Board's handle on the webhook deliveries (the worker process delivers; here the board only reads and retries),
  // on the post-call queue's connection and prefix.
  const webhookQueue = createWebhookQueue(ctx.queue.opts.connection, { prefix: ctx.queue.opts.prefix ?? config.queuePrefix, attempts: config.webhooks.maxAttempts });
  webhookQueue.on('error', (err) => ctx.logger.warn({ err: err.message }, 'webhook queue (board) error'));
  const api = createApiRouter({
    db: ctx.db,
    redis: ctx.authRedis,
    redisPrefix: o.redisPrefix ?? ctx.authRedisPrefix,
    config,
    routes: [
      ...managementRoutes({ db: ctx.db, calls: ctx.calls, dialer: o.dialer ?? createTwilioDialer({ config, db: ctx.db, logger: ctx.logger, budgets }), budgets, recordingStorage, contactsUploadMaxBytes: config.outbound.contactsUploadMaxBytes, webhooks: webhookApiDeps(config), integrations: crmConnectorDeps(config) }),
      ...liveRoutes({ ...liveService, audit }),
      ...(o.apiRoutes ?? []),
    ],
    routers: [
      createKnowledgeRouter({ db: ctx.db, agents: ctx.agents, vectors: ctx.providers.vectors, queue: ctx.knowledgeQueue }),
      webCallRouter,
      // Queue monitoring for admins (post-call, knowledge and webhook-delivery queues).
      createQueueBoardRouter({ queues: [ctx.queue, ctx.knowledgeQueue, webhookQueue] }),
    ],
  });
  const app = createApp({
    logger: ctx.logger,
    trustProxyHops: config.trustProxyHops,
    readiness: { checks: ctx.readinessChecks, draining: () => draining, timeoutMs: o.readinessTimeoutMs },
    routers: [
      createTwilioRouter({
        calls: ctx.calls,
        agents: ctx.agents,
        authToken: config.twilio.authToken,
        publicBaseUrl: config.publicBaseUrl,
        logger: ctx.logger,
        draining: () => draining,
        unconfiguredNumber: config.unconfiguredNumber,
      }),
      createTwilioWhisperRouter({ calls: ctx.calls, authToken: config.twilio.authToken, publicBaseUrl: config.publicBaseUrl, logger: ctx.logger }),
      createOutboundStatusRouter({
        db: ctx.db,
        calls: ctx.calls,
        authToken: config.twilio.authToken,
        publicBaseUrl: config.publicBaseUrl,
        logger: ctx.logger,
        inProgressLeaseMs: inProgressLeaseMs(config.outbound.ringTimeoutS, config.engine.maxCallDurationMs),
      }),
      createTwilioOutboundRouter({
        outcomes,
        authToken: config.twilio.authToken,
        publicBaseUrl: config.publicBaseUrl,
        logger: ctx.logger,
        publishAmd: (m) => amd.publish(m),
        draining: () => draining,
      }),
      // Triggers in (issue 13 §6): signature-verified, raw body, 120 requests/min per client IP.
      createInboundTriggersRouter({
        db: ctx.db,
        box: webhookApiDeps(config).box,
        publicBaseUrl: config.publicBaseUrl,
        dialer: o.dialer ?? createTwilioDialer({ config, db: ctx.db, logger: ctx.logger, budgets }),
        rateLimit: requestRateLimit({ redis: ctx.authRedis, keyPrefix: `${o.redisPrefix ?? ctx.authRedisPrefix}:rl:inbound-trigger`, points: 120, durationS: 60, key: (req) => req.ip ?? null, message: 'too many inbound trigger requests' }),
      }),
      api,
      ...(config.metricsEnabled && config.auth.metricsToken ? [createMetricsRouter({ registry: ctx.metrics.registry, token: config.auth.metricsToken })] : []),
      queueBoardAliasRouter(),
      // Last: the dashboard's index.html answers client-side routes, never a server path.
      createWebUiRouter({ dir: o.webUiDir }),
    ],
  });
  const server = http.createServer(app);
  // WebSocket upgrades are dispatched by path: each module registers its own (unknown paths get 404).
  upgradeRoutes(server).add(WEB_CALL_PATH, upgradeThroughApp(app));
  const media = attachMediaStreamServer(server, {
    path: MEDIA_STREAM_PATH,
    authToken: config.twilio.authToken,
    publicBaseUrl: config.publicBaseUrl,
    logger: ctx.logger,
    maxAheadMs: config.media.maxAheadMs, metrics: ctx.metrics,
    createHandler,
  });
  const listen = attachLiveListen(server, {
    authenticate: upgradeAuthenticator({ authChain: api.authChain, publicBaseUrl: config.publicBaseUrl, role: 'supervisor', trustProxyHops: config.trustProxyHops }),
    relay: liveService.relay,
    ownerOf: (callSid) => liveService.feed.ownerOf(callSid),
    audit,
    logger: ctx.logger,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.logger.info({ port }, 'server listening');
  const log = ctx.logger.child({ component: 'drain' });
  const drainGraceMs = o.drainGraceMs ?? DRAIN_GRACE_MS;
  const doDrain = async (): Promise<void> => {
    draining = true;
    ctx.metrics.draining.set(1);
    log.info({ liveCalls: live.size, drainTimeoutMs: config.drainTimeoutMs }, 'draining: no new calls, live calls go on');
    if (await live.waitEmpty(config.drainTimeoutMs)) {
      log.info('drained: every call ended');
      return;
    }
    log.info({ liveCalls: live.size }, 'drain timeout: the agent says goodbye and hangs up the remaining calls');
    for (const [callSid, session] of live) {
      try {
        session.hangUp('drain');
      } catch (err) {
        log.error({ callSid, err: err instanceof Error ? err.message : String(err) }, 'hang-up on drain failed');
      }
    }
    if (await live.waitEmpty(drainGraceMs)) {
      log.info('drained: every call ended');
      return;
    }
    log.warn({ liveCalls: live.size, drainGraceMs }, 'calls still live after the goodbye: ending them');
    await Promise.all(
      [...live].map(async ([callSid, session]) => {
        // The goodbye may not have reached the hang-up (which stores the reason); the drain still ended this call.
        await ctx.calls.setEndReason(callSid, 'drain').catch((err) => log.warn({ callSid, err: err instanceof Error ? err.message : String(err) }, 'could not store end reason'));
        await session.end('server shutdown');
      }),
    );
    log.info('drained: every call ended');
  };
  return {
    port,
    server,
    live,
    liveService,
    get draining() {
      return draining;
    },
    drain: () => (drained ??= doDrain()),
    close: async () => {
      if (budgetTimer) clearInterval(budgetTimer);
      await Promise.all([...live.values()].map((s) => s.end('server shutdown')));
      await media.close();
      await partialSweep.stop();
      await listen.close();
      await liveService.close();
      await webCallRouter.close();
      await amd.close();
      await webhookQueue.close();
      subscriber.disconnect();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
