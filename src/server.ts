import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config';
import type { AppContext } from './context';
import { createApp } from './http/app';
import { createTwilioRouter, MEDIA_STREAM_PATH } from './http/routes/twilio';
import { createApiRouter } from './http/routes/api';
import { createKnowledgeRouter } from './http/routes/knowledge';
import { createMetricsRouter } from './http/routes/metrics';
import { attachMediaStreamServer } from './telephony/media-stream-server';
import { createSessionFactory } from './engine/session-factory';
import type { CallSession } from './engine/call-session';
import { toolSpecsFor } from './tools/builtin';
import { executeHttpTool } from './tools/http-tool';

export interface RunningServer {
  port: number;
  server: http.Server;
  live: Map<string, CallSession>;
  /** Stops accepting, ends live calls (their rows are written and post-call jobs enqueued), closes the listener. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP server (Twilio webhooks, REST API, health, `GET /metrics` when `config.metricsEnabled`) and the
 * Media Streams WebSocket server on `config.port` (0 = ephemeral). Resolves once listening.
 */
export async function startServer(config: Readonly<Config>, ctx: AppContext): Promise<RunningServer> {
  const live = new Map<string, CallSession>();
  const app = createApp({
    logger: ctx.logger,
    trustProxyHops: config.trustProxyHops,
    routers: [
      createTwilioRouter({ calls: ctx.calls, agents: ctx.agents, authToken: config.twilio.authToken, publicBaseUrl: config.publicBaseUrl, logger: ctx.logger }),
      createApiRouter({ calls: ctx.calls, agents: ctx.agents, apiKey: config.apiKey }),
      createKnowledgeRouter({ db: ctx.db, agents: ctx.agents, vectors: ctx.providers.vectors, queue: ctx.knowledgeQueue, apiKey: config.apiKey }),
      ...(config.metricsEnabled ? [createMetricsRouter({ registry: ctx.metrics.registry, apiKey: config.apiKey })] : []),
    ],
  });
  const server = http.createServer(app);
  const media = attachMediaStreamServer(server, {
    path: MEDIA_STREAM_PATH,
    authToken: config.twilio.authToken,
    publicBaseUrl: config.publicBaseUrl,
    logger: ctx.logger,
    maxAheadMs: config.media.maxAheadMs, metrics: ctx.metrics,
    createHandler: createSessionFactory({
      calls: ctx.calls,
      agents: ctx.agents,
      stt: ctx.providers.stt,
      tts: ctx.providers.tts,
      llm: ctx.providers.llm,
      retriever: ctx.retriever,
      createTurnDetector: ctx.createTurnDetector,
      onCallEnded: ctx.enqueuePostCall,
      live,
      callControl: ctx.callControl,
      metrics: ctx.metrics,
      limits: {
        silenceRepromptMs: config.engine.silenceRepromptMs,
        maxReprompts: config.engine.maxReprompts,
        maxCallDurationMs: config.engine.maxCallDurationMs,
        deadAirMs: config.engine.deadAirFillerMs,
      },
      apology: ctx.apology,
      filler: ctx.filler,
      classifyIntent: ctx.classifyIntent,
      toolsFor: toolSpecsFor,
      httpTool: (spec, args, o) => executeHttpTool(spec, args, o),
    }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.logger.info({ port }, 'server listening');
  return {
    port,
    server,
    live,
    close: async () => {
      await Promise.all([...live.values()].map((s) => s.end('server shutdown')));
      await media.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
