import type { Logger } from 'pino';
import type { AgentProfile } from '../domain/agents';
import type { CallControl, CallStore, MediaTransport } from '../domain/ports';
import type { Metrics } from '../metrics/metrics';
import type { LlmProvider, SttProvider, ToolSpec, TtsProvider } from '../providers/types';
import type { CallLimits } from './call-timers';
import type { Clock } from './clock';
import type { Retriever } from './conversation';
import type { TurnDetectorLike } from './inbound-audio';
import type { CachedPhrases } from './speaker';
import type { AdaptiveEndpointing } from './speculation';
import type { ToolRunnerDeps } from './tool-runner';
import type { CallOutcomes, OutboundOptions } from './outbound-call';

/** What a {@link CallSession} is built from (one per call). */
export interface CallSessionDeps {
  callSid: string;
  streamSid: string;
  agent: AgentProfile;
  transport: MediaTransport;
  stt: SttProvider;
  tts: TtsProvider;
  llm: LlmProvider;
  retriever: Retriever;
  turnDetector: TurnDetectorLike;
  store: CallStore;
  /** Called once after every row of the call is written (enqueues post-call jobs). */
  onEnded: (callSid: string) => Promise<void>;
  logger: Logger;
  /** Transfer and hangup over Twilio REST; without it those actions are recorded but the call stays up. */
  callControl?: CallControl;
  metrics?: Metrics;
  /** Silence reprompts, time limit, dead-air filler. Default: 8 s, 2 reprompts, 15 min, 1.9 s. */
  limits?: Partial<CallLimits>;
  /** Tools offered to the LLM (built-ins + the agent's HTTP tools) and the runner of HTTP tools. */
  tools?: ToolSpec[];
  httpTool?: ToolRunnerDeps['httpTool'];
  /** Pre-rendered 8 kHz mu-law per language: the outage apology (offers a person), the filler, "didn't catch that". */
  apology?: CachedPhrases;
  filler?: CachedPhrases;
  didNotCatch?: CachedPhrases;
  /**
   * Adaptive endpointing from speculative transcripts (needs a detector that emits `pause`); null/absent: every turn
   * ends after the detector's configured silence.
   */
  adaptiveEndpointing?: AdaptiveEndpointing | null;
  /** "I couldn't understand you, I can connect you with a person", per language (spoken in the agent's default). */
  notUnderstood?: CachedPhrases;
  /** Intent classifier for LLMs that do not report one. */
  classifyIntent?: (text: string, intents: string[], language: string) => { intent: string; confidence: number };
  /** How long `end()` may take, in all, to finish the call's work and rows (ms); default 5000. */
  endDeadlineMs?: number;
  clock?: Clock;
  /** An outbound call: wait for "hello?" before the greeting, AMD / transcript machine → voicemail. Absent: inbound. */
  outbound?: OutboundOptions;
  /** Where opt-outs, machine results, voicemails and callbacks are written; absent: no opt-out/callback handling. */
  outcomes?: CallOutcomes;
}
