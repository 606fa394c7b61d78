import type { Logger } from 'pino';
import type { StartEvent } from './telephony/protocol';
import type { StreamHandler, StreamHandlerFactory } from './telephony/media-stream-server';
import type { CallControl, MediaTransport } from './domain/ports';
import type { Agent } from './domain/agents';
import type { CallsRepo } from './db/calls';
import type { AgentsRepo } from './db/agents';
import type { LlmProvider, SttProvider, ToolSpec, TtsProvider } from './providers/types';
import type { Metrics } from './metrics/metrics';
import type { Retriever } from './engine/conversation';
import { CallSession, type CallLimits, type CallSessionDeps, type TurnDetectorLike } from './engine/call-session';

export interface SessionFactoryDeps {
  calls: CallsRepo;
  agents: AgentsRepo;
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  retriever: Retriever;
  /** A fresh VAD/endpointing detector per call. */
  createTurnDetector: () => Promise<TurnDetectorLike>;
  /** Enqueues post-call jobs once the call's rows are written. */
  onCallEnded: (callSid: string) => Promise<void>;
  /** Live sessions by callSid (for metrics and graceful shutdown). */
  live?: Map<string, CallSession>;
  /** Transfer / hangup over Twilio REST. */
  callControl?: CallControl;
  metrics?: Metrics;
  limits?: Partial<CallLimits>;
  /** Tools offered to the LLM for an agent (built-ins + its HTTP tools). */
  toolsFor?: (agent: Agent) => ToolSpec[];
  httpTool?: CallSessionDeps['httpTool'];
  apology?: CallSessionDeps['apology'];
  filler?: CallSessionDeps['filler'];
  didNotCatch?: CallSessionDeps['didNotCatch'];
  notUnderstood?: CallSessionDeps['notUnderstood'];
  adaptiveEndpointing?: CallSessionDeps['adaptiveEndpointing'];
  classifyIntent?: CallSessionDeps['classifyIntent'];
}

/**
 * Builds the {@link StreamHandlerFactory} that turns a Media Streams `start` frame into a running CallSession.
 * The call must have been answered by our signed voice webhook (its row exists), the `callSid` parameter we put
 * in the TwiML must match the stream's callSid, and the call must not already have a stream or have ended.
 * @throws Error (closes that stream) for an unknown, already streaming or ended call, or an unknown agent.
 */
export function createSessionFactory(d: SessionFactoryDeps): StreamHandlerFactory {
  return async (start: StartEvent, transport: MediaTransport, log: Logger): Promise<StreamHandler> => {
    const { callSid, customParameters } = start.start;
    if (customParameters.callSid && customParameters.callSid !== callSid) throw new Error('callSid parameter mismatch');
    const call = await d.calls.get(callSid);
    if (!call) throw new Error('unknown call');
    const agent = await d.agents.get(call.agentId);
    if (!agent) throw new Error('unknown agent');
    if (!(await d.calls.attachStream(callSid, start.streamSid))) throw new Error('call already has a stream or has ended');
    const turnDetector = await d.createTurnDetector();
    await d.calls.addEvent(callSid, 'stream.started', { streamSid: start.streamSid, tracks: start.start.tracks });
    const session = new CallSession({
      callSid,
      streamSid: start.streamSid,
      agent,
      transport,
      stt: d.stt,
      tts: d.tts,
      llm: d.llm,
      retriever: d.retriever,
      turnDetector,
      store: d.calls,
      onEnded: d.onCallEnded,
      logger: log,
      callControl: d.callControl,
      metrics: d.metrics,
      limits: d.limits,
      tools: d.toolsFor?.(agent),
      httpTool: d.httpTool,
      apology: d.apology,
      filler: d.filler,
      didNotCatch: d.didNotCatch,
      notUnderstood: d.notUnderstood,
      adaptiveEndpointing: d.adaptiveEndpointing,
      classifyIntent: d.classifyIntent,
    });
    d.live?.set(callSid, session);
    d.metrics?.activeCalls.inc();
    session.start();
    return {
      onMedia: (ev) => session.onMedia(ev.mulaw),
      onDtmf: (digit) => session.onDtmf(digit),
      onMark: (name) => session.onMark(name),
      onEnd: async (reason) => {
        try {
          await session.end(reason);
        } finally {
          if (d.live?.get(callSid) === session) d.live.delete(callSid);
          d.metrics?.activeCalls.dec();
        }
      },
    };
  };
}
