import type { Logger } from 'pino';
import { ProtocolError, type StartEvent } from './telephony/protocol';
import type { StreamHandler, StreamHandlerFactory } from './telephony/media-stream-server';
import type { CallControl, CallStore, MediaTransport } from './domain/ports';
import type { TurnRow } from './domain/calls';
import type { Agent } from './domain/agents';
import { safeErrorMessage } from './domain/redact';
import type { CallsRepo } from './db/calls';
import type { AgentsRepo } from './db/agents';
import type { LlmProvider, SttProvider, ToolSpec, TtsProvider } from './providers/types';
import type { AgentProviderSelection } from './providers/registry';
import type { AgentEndpointing, AgentProviders } from './domain/agent-settings';
import type { Metrics } from './metrics/metrics';
import type { Retriever } from './engine/conversation';
import { CallSession, type CallLimits, type CallSessionDeps, type TurnDetectorLike } from './engine/call-session';
import type { OutboundOutcomesRepo } from './db/outbound-outcomes';
import { outboundSetup } from './outbound-session';
import { observedStore } from './domain/observed-store';
import { openTaps, tappedTransport, type CallTapFactory } from './call-taps';

export interface SessionFactoryDeps {
  calls: CallsRepo;
  agents: AgentsRepo;
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  retriever: Retriever;
  /** A fresh VAD/endpointing detector per call, with the agent's endpointing overrides. */
  createTurnDetector: (endpointing?: AgentEndpointing) => Promise<TurnDetectorLike>;
  /**
   * The STT/LLM/TTS chains an agent's `providers` choice asks for (absent capabilities: `stt`, `llm`, `tts` above,
   * the server's defaults); choices the server cannot use come back in `ignored`. Absent: the defaults serve all.
   */
  providersFor?: (choice: AgentProviders) => AgentProviderSelection;
  /** Enqueues post-call jobs once the call's rows are written. */
  onCallEnded: (callSid: string) => Promise<void>;
  /** Live sessions by callSid (for metrics and graceful shutdown). */
  live?: Map<string, CallSession>;
  /** Transfer / hangup over Twilio REST. */
  callControl?: CallControl;
  metrics?: Metrics;
  limits?: Partial<CallLimits>;
  /** Tools offered to the LLM for an agent (built-ins, with `outbound` the opt-out/callback ones, + its HTTP tools). */
  toolsFor?: (agent: Agent, o: { outbound: boolean }) => ToolSpec[];
  /**
   * Outbound calls (a stream with Parameters `direction=outbound` and `attemptId`) and call outcomes (opt-outs of
   * inbound calls too). Absent: every call is handled as inbound and nothing is written for opt-outs.
   */
  outbound?: { repo: OutboundOutcomesRepo; greetingWaitMs: number };
  httpTool?: CallSessionDeps['httpTool'];
  apology?: CallSessionDeps['apology'];
  filler?: CallSessionDeps['filler'];
  didNotCatch?: CallSessionDeps['didNotCatch'];
  notUnderstood?: CallSessionDeps['notUnderstood'];
  adaptiveEndpointing?: CallSessionDeps['adaptiveEndpointing'];
  classifyIntent?: CallSessionDeps['classifyIntent'];
  /** Observers of each call's audio (recording, listen-in); see src/call-taps.ts. */
  taps?: readonly CallTapFactory[];
  /** Where sessions write their rows; default `calls` (e.g. wrapped to also publish turns live, src/live/feed.ts). */
  store?: CallStore;
  /**
   * Called after each turn of any call is stored (with its `seq`), e.g. to show the transcript live. Runs on the
   * recorder's write path: must return at once and not throw (a throw is logged, the call goes on).
   */
  onTurn?: (callSid: string, turn: TurnRow) => void;
}

/**
 * Builds the {@link StreamHandlerFactory} that turns a Media Streams `start` frame into a running CallSession.
 * The call must have been answered by our signed voice webhook (its row exists), the `callSid` parameter we put
 * in the TwiML must match the stream's callSid, and the call must not already have a stream or have ended.
 * The agent is read once, here: that row is the call's snapshot (greeting, prompt, providers, LLM settings,
 * endpointing, time limit), so an edit of the agent applies to the next call, never to this one. An agent's provider
 * choice this server cannot use is logged once per call (`warn`) and the server's default serves it.
 * @throws Error (closes that stream) for an unknown, already streaming or ended call, or an unknown agent.
 */
export function createSessionFactory(d: SessionFactoryDeps): StreamHandlerFactory {
  return async (start: StartEvent, transport: MediaTransport, log: Logger): Promise<StreamHandler> => {
    const { callSid, customParameters } = start.start;
    if (customParameters.callSid && customParameters.callSid !== callSid) throw new ProtocolError('callSid parameter mismatch');
    const call = await d.calls.get(callSid);
    if (!call) throw new ProtocolError('unknown call');
    const stored = await d.agents.get(call.agentId);
    if (!stored) throw new ProtocolError('unknown agent');
    const out = d.outbound ? await outboundSetup(d.outbound, call, stored, customParameters) : null;
    const agent = out?.agent ?? stored;
    if (!(await d.calls.attachStream(callSid, start.streamSid))) throw new ProtocolError('call already has a stream or has ended');
    const chosen = choose(d.providersFor, agent, log);
    if (chosen.ignored.length) log.warn({ agentId: agent.id, ignored: chosen.ignored }, "agent's provider choice not usable on this server: the server default serves this call");
    const turnDetector = await d.createTurnDetector(agent.endpointing);
    await d.calls.addEvent(callSid, 'stream.started', { streamSid: start.streamSid, tracks: start.start.tracks });
    const tap = openTaps(d.taps, { callSid, streamSid: start.streamSid, agentId: agent.id, direction: call.direction, from: call.from, to: call.to, recordCalls: agent.recordCalls }, (err) =>
      log.warn({ err: safeErrorMessage(err) }, 'call tap failed: it stops, the call goes on'),
    );
    const session = new CallSession({
      callSid,
      streamSid: start.streamSid,
      agent,
      transport: tappedTransport(transport, tap),
      stt: chosen.stt ?? d.stt,
      tts: chosen.tts ?? d.tts,
      llm: chosen.llm ?? d.llm,
      retriever: d.retriever,
      turnDetector,
      store: d.onTurn ? observedStore(d.store ?? d.calls, { onTurn: d.onTurn, onError: (err) => log.warn({ err: safeErrorMessage(err) }, 'turn observer failed') }) : (d.store ?? d.calls),
      onEnded: d.onCallEnded,
      logger: log,
      callControl: d.callControl,
      metrics: d.metrics,
      limits: d.limits,
      tools: d.toolsFor?.(agent, { outbound: !!out?.options }),
      httpTool: d.httpTool,
      apology: d.apology,
      filler: d.filler,
      didNotCatch: d.didNotCatch,
      notUnderstood: d.notUnderstood,
      adaptiveEndpointing: d.adaptiveEndpointing,
      classifyIntent: d.classifyIntent,
      outbound: out?.options,
      outcomes: out?.outcomes,
    });
    d.live?.set(callSid, session);
    d.metrics?.activeCalls.inc();
    session.start();
    // An AMD result stored between the attempt's read above and the session joining `live` (published to no one).
    if (out?.options && !out.options.answeredBy) void out.laterAnsweredBy().then((a) => a && session.onAnsweredBy(a), (err) => log.warn({ err: safeErrorMessage(err) }, 'AMD re-check failed'));
    return {
      onMedia: tap
        ? (ev) => {
            tap.onInbound(ev.mulaw);
            session.onMedia(ev.mulaw);
          }
        : (ev) => session.onMedia(ev.mulaw),
      onDtmf: (digit) => session.onDtmf(digit),
      onMark: (name) => session.onMark(name),
      onEnd: async (reason) => {
        try {
          await session.end(reason);
        } finally {
          if (d.live?.get(callSid) === session) d.live.delete(callSid);
          d.metrics?.activeCalls.dec();
          await tap?.close(reason);
        }
      },
    };
  };
}

/** The agent's provider chains; the server's defaults (logged) if building them fails, so the call is still answered. */
function choose(providersFor: SessionFactoryDeps['providersFor'], agent: Agent, log: Logger): AgentProviderSelection {
  try {
    return providersFor?.(agent.providers ?? {}) ?? { ignored: [] };
  } catch (err) {
    log.error({ agentId: agent.id, err: safeErrorMessage(err) }, "could not build the agent's providers: the server defaults serve this call");
    return { ignored: [] };
  }
}

