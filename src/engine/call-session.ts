import type { Logger } from 'pino';
import type { AgentProfile } from '../domain/agents';
import type { TurnInput, TurnTimings } from '../domain/calls';
import type { CallControl, CallStore, MediaTransport } from '../domain/ports';
import type { Metrics } from '../metrics/metrics';
import type { LlmProvider, SttProvider, ToolCall, ToolSpec, TtsProvider } from '../providers/types';
import { safeErrorMessage } from '../providers/resilience/errors';
import { mulawDecode } from '../audio/mulaw';
import { summarizeTranscript } from '../analytics/transcript';
import { CallActions } from './call-actions';
import { phrase } from './call-control-phrases';
import { MAX_DURATION_PLAN, planAction, planSilence, TRANSFER_FAILED, type CallStep } from './call-plan';
import { CallTimers, type CallLimits, type TimerEvent } from './call-timers';
import { CallerInput, type PendingUtterance, type Utterance } from './caller-input';
import { systemClock, withDeadline, type Clock } from './clock';
import { Conversation, type Retriever } from './conversation';
import { InterruptionController } from './interruption';
import { Playout } from './playout';
import { CallRecorder } from './recorder';
import { ReplyPipeline, type ReplyOutcome } from './reply-pipeline';
import { Speaker, type CachedPhrases, type Spoken } from './speaker';
import { runToolCall, type ToolRunnerDeps } from './tool-runner';
import type { TurnEvent } from './turn-detector';
import { TurnQueue, type TurnJob } from './turn-queue';

export type { TurnEvent, CallLimits, CallStore };

/** VAD + endpointing over the caller's 8 kHz PCM. */
export interface TurnDetectorLike {
  push(samples8k: Int16Array): Promise<TurnEvent[]>;
  flush(): Promise<TurnEvent[]> | TurnEvent[];
  close?(): void | Promise<void>;
}

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
  /** Intent classifier for LLMs that do not report one. */
  classifyIntent?: (text: string, intents: string[], language: string) => { intent: string; confidence: number };
  /** How long `end()` may take, in all, to finish the call's work and rows (ms); default 5000. */
  endDeadlineMs?: number;
  clock?: Clock;
}

const DEFAULT_LIMITS: CallLimits = { silenceRepromptMs: 8_000, maxReprompts: 2, maxCallDurationMs: 15 * 60_000, deadAirMs: 1_900 };
/** Caller audio waiting for the VAD beyond which the call is failed rather than buffered without bound (ms). */
export const MAX_QUEUED_AUDIO_MS = 10_000;

/**
 * One phone call. Caller audio → VAD/endpointing events → {@link InterruptionController} (pause, barge-in,
 * backchannel) and {@link CallerInput} (every accepted utterance is transcribed at once and kept until answered) →
 * one {@link TurnQueue} of agent turns: the greeting, replies ({@link ReplyPipeline}), and call-control plans
 * (reprompts, goodbye, transfer, hangup). A caller who keeps talking before the reply's first real audio gets one
 * answer to everything said (the stale reply is cancelled). Every row goes through the {@link CallRecorder}, closed
 * at the end. A failing provider never throws out of the session; `end()` is idempotent.
 */
export class CallSession {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly t0: number;
  private readonly limits: CallLimits;
  private readonly recorder: CallRecorder;
  private readonly playout: Playout;
  private readonly speaker: Speaker;
  private readonly conversation: Conversation;
  private readonly turns: TurnQueue;
  private readonly input: CallerInput;
  private readonly interruptions: InterruptionController;
  private readonly actions: CallActions;
  private readonly timers: CallTimers;
  private readonly pipeline: ReplyPipeline;
  private language: string;
  private offeredTransfer = false;
  private lastHeard = '';
  /** The running reply (committed once it is being heard). */
  private answering: { committed: boolean } | null = null;
  /** Agent speech of replies cut before they answered (a filler): recorded right after the caller turn it preceded. */
  private held: TurnInput[] = [];
  /** Work that must finish before the call's rows are closed (turn jobs, backchannel transcripts). */
  private readonly inflight = new Set<Promise<unknown>>();
  private inbound: Int16Array[] = [];
  private inboundSamples = 0;
  private pumping: Promise<void> | null = null;
  private audioMsReceived = 0;
  private ended: Promise<void> | null = null;

  constructor(private readonly d: CallSessionDeps) {
    this.log = d.logger.child({ callSid: d.callSid, streamSid: d.streamSid, agentId: d.agent.id });
    this.clock = d.clock ?? systemClock;
    this.t0 = this.clock.now();
    this.limits = { ...DEFAULT_LIMITS, ...d.limits };
    this.language = d.agent.defaultLanguage;
    this.recorder = new CallRecorder(d.store, d.callSid, this.log);
    this.playout = new Playout(d.transport, this.clock);
    this.speaker = new Speaker(this.playout, d.tts, d.agent, this.t0, this.clock);
    this.conversation = new Conversation(d.agent, d.llm, d.retriever, () => this.clock.now());
    this.turns = new TurnQueue((err) => this.providerError('turn', err));
    this.input = new CallerInput(d.stt, this.clock);
    this.actions = new CallActions({ callSid: d.callSid, handoffNumber: d.agent.handoffNumber, callControl: d.callControl, recorder: this.recorder, metrics: d.metrics, log: this.log, onError: (s, e) => this.providerError(s, e) });
    this.interruptions = new InterruptionController(this.playout, this.turns, () => this.actions.closing !== null);
    this.timers = new CallTimers(this.limits, (ev) => this.onTimer(ev));
    const runTool = (call: ToolCall, signal: AbortSignal, language: string) =>
      runToolCall(call, { agent: d.agent, callSid: d.callSid, retriever: d.retriever, language: () => language, httpTool: d.httpTool }, signal);
    this.pipeline = new ReplyPipeline({
      agent: d.agent, conversation: this.conversation, speaker: this.speaker, clock: this.clock, deadAirMs: this.limits.deadAirMs, tools: d.tools,
      runTool, cached: { apology: d.apology, filler: d.filler, didNotCatch: d.didNotCatch }, classifyIntent: d.classifyIntent,
    });
  }

  /** Speaks the agent's first message and starts the call's time limit. */
  start(): void {
    this.log.info('call session started');
    this.timers.start();
    this.enqueue('say', (signal) => this.sayTurn(this.d.agent.firstMessage, signal));
  }

  /**
   * Inbound caller audio (raw 8 kHz mu-law, any length), processed in arrival order.
   * @throws Error when more than {@link MAX_QUEUED_AUDIO_MS} of audio waits for the VAD (the stream is then closed).
   */
  onMedia(mulaw: Uint8Array): void {
    if (this.ended) return;
    if (this.inboundSamples / 8 > MAX_QUEUED_AUDIO_MS) throw new Error(`more than ${MAX_QUEUED_AUDIO_MS} ms of caller audio waiting for the VAD`);
    const samples = mulawDecode(mulaw);
    this.audioMsReceived += samples.length / 8;
    this.inbound.push(samples);
    this.inboundSamples += samples.length;
    this.pumping ??= this.pumpInbound();
  }

  /** A DTMF digit. Never logged; stored masked (`*`, `#`, `0` kept). A menu key interrupts and runs its action. */
  onDtmf(digit: string): void {
    if (this.ended) return;
    this.recorder.event('dtmf', { digit: /^[*#0]$/.test(digit) ? digit : 'X', atMs: Math.round(this.now()) });
    this.timers.callerActivity();
    const action = this.d.agent.dtmfMenu?.[digit];
    if (!action || this.actions.closing) return;
    this.d.metrics?.callControl.inc({ action: `dtmf_${action}` });
    this.interruptions.interrupt('dtmf');
    if (action === 'repeat') this.enqueue('say', (signal) => this.sayTurn(this.lastHeard || this.d.agent.firstMessage, signal));
    else this.enqueuePlan(planAction({ type: action === 'transfer' ? 'transfer' : 'end_call', reason: 'dtmf' }, { alreadySpoke: false, canTransfer: this.actions.canTransfer }));
  }

  /** A mark echoed by Twilio. */
  onMark(name: string): void {
    this.playout.onMark(name);
  }

  /**
   * Ends the call from our side, politely (e.g. `drain`): the agent is cut, says goodbye in the call's language, the
   * call is hung up over Twilio REST with `reason` as its end reason; Twilio's `stop` then ends the session.
   */
  hangUp(reason: string): void {
    if (this.ended || this.actions.closing) return;
    this.actions.beginClosing(reason);
    this.interruptions.interrupt(reason);
    this.enqueuePlan(planAction({ type: 'end_call', reason }, { alreadySpoke: false, canTransfer: false }));
  }

  /** Ends the call (stream `stop` or socket closed); see class doc. Resolves when its rows are written. */
  end(reason: string): Promise<void> {
    this.ended ??= this.finish(reason);
    return this.ended;
  }

  private now(): number {
    return this.clock.now() - this.t0;
  }

  private async pumpInbound(): Promise<void> {
    while (this.inbound.length && !this.ended) {
      const frames = this.inbound.splice(0);
      const n = frames.reduce((a, f) => a + f.length, 0);
      const samples = frames.length === 1 ? frames[0] : concat(frames, n);
      const receivedAt = this.clock.now();
      const audioMsAtPush = this.audioMsReceived - (this.inboundSamples - n) / 8;
      try {
        const events = await this.d.turnDetector.push(samples);
        this.onTurnEvents(events, (ms) => receivedAt - (audioMsAtPush - ms));
      } catch (err) {
        this.providerError('vad', err); // the detector recovers on its next windows
      } finally {
        this.inboundSamples -= n;
      }
    }
    this.pumping = null;
  }

  private onTurnEvents(events: TurnEvent[], wallAt: (audioMs: number) => number): void {
    for (const ev of events) {
      if (ev.type === 'speech_onset') {
        this.timers.callerActivity();
        if (this.interruptions.speechOnset(ev)) this.log.debug({ atMs: ev.atMs }, 'agent paused at speech onset');
      } else if (ev.type === 'barge_in') {
        if (!this.interruptions.bargeIn(ev)) continue;
        this.log.info({ atMs: ev.atMs }, 'barge-in');
        this.d.metrics?.bargeIns.inc();
        this.recorder.event('barge_in', { atMs: Math.round(ev.atMs), speechStartMs: Math.round(ev.speechStartMs) });
      } else if (ev.type === 'backchannel') {
        if (this.interruptions.backchannelEnded(ev)) this.recorder.event('backchannel', { atMs: Math.round(ev.atMs), speechMs: Math.round(ev.speechMs) });
      } else if (ev.type === 'utterance') {
        // The end of turn is decided now (the VAD has just seen enough silence): turn overhead counts from here.
        this.onUtterance(ev, wallAt(ev.endMs), this.clock.now());
      }
    }
  }

  private onUtterance(u: Utterance, speechEndWall: number, decidedWall: number): void {
    if (this.interruptions.wasBackchannel(u)) return this.keepBackchannel(u);
    this.input.add(u, speechEndWall, decidedWall, this.language);
    if (this.actions.closing) return; // kept and recorded at the end, not answered
    if (this.turns.running === 'answer' && this.answering && !this.answering.committed) this.turns.abortCurrent('caller kept talking');
    if (!this.turns.hasQueued('answer')) this.enqueue('answer', (signal) => this.answer(signal));
  }

  /** An "mm-hm" over the agent: transcribed and kept in the transcript, not answered. */
  private keepBackchannel(u: Utterance): void {
    this.track(this.input.transcribe(u, this.language).then((t) => {
      if (t.ok && t.transcript.text.trim()) this.recorder.turn({ role: 'caller', text: t.transcript.text.trim(), language: this.language, startMs: u.startMs, endMs: u.endMs, intent: null });
    }));
  }

  private async answer(signal: AbortSignal): Promise<void> {
    const items = [...this.input.pending];
    if (!items.length) return;
    this.timers.agentTalking();
    const state = { committed: false };
    this.answering = state;
    const out = await this.pipeline.run({ items, language: this.language, offeredTransfer: this.offeredTransfer }, signal, (caller) => {
      state.committed = true;
      this.input.take(items);
      if (caller) this.recorder.turn(caller);
      for (const t of this.held.splice(0)) this.recorder.turn(t);
    });
    if (this.answering === state) this.answering = null;
    await this.applyReply(out, signal);
  }

  /** Records what a reply produced and runs its follow-up (an action, or listening for the caller). */
  private async applyReply(out: ReplyOutcome, signal: AbortSignal): Promise<void> {
    if (!out.committed) {
      if (out.heard?.text) this.held.push(agentTurn(out.heard, this.language, null));
      return;
    }
    for (const err of out.sttErrors) this.providerError('stt', err);
    if (out.kind === 'empty' || out.kind === 'not_understood') this.recorder.event(out.kind === 'empty' ? 'stt.empty' : 'stt.failed', {});
    for (const t of out.tools) this.recorder.event('tool', t);
    if (out.error) this.providerError('reply', out.error);
    this.language = out.language;
    this.offeredTransfer = out.offeredTransfer;
    this.conversation.commit(out.draft);
    const answered = out.kind === 'answered';
    if (out.heard) this.recordAgent(out.heard, { intent: out.caller?.intent ?? null, timings: answered ? out.timings : undefined });
    if (answered) this.observe(out.timings);
    this.log.info({ ...out.timings, kind: out.kind, language: out.language, intent: out.caller?.intent ?? null, interrupted: out.heard ? !out.heard.complete : false }, 'turn answered');
    if (signal.aborted) return;
    if (out.action) await this.runSteps(planAction(out.action, { alreadySpoke: !!out.heard?.text && answered, canTransfer: this.actions.canTransfer }), signal);
    else this.timers.awaitCaller();
  }

  private onTimer(ev: TimerEvent): void {
    if (this.ended || this.actions.closing) return;
    if (ev.type === 'silence') {
      this.d.metrics?.callControl.inc({ action: ev.n > this.limits.maxReprompts ? 'silence_hangup' : 'reprompt' });
      return this.enqueuePlan(planSilence(ev.n, this.limits.maxReprompts));
    }
    this.log.info({ maxCallDurationMs: this.limits.maxCallDurationMs }, 'call time limit reached');
    this.actions.beginClosing('max_duration');
    this.interruptions.interrupt('max_duration');
    this.enqueuePlan(MAX_DURATION_PLAN);
  }

  private enqueuePlan(steps: CallStep[]): void {
    this.enqueue(steps.some((s) => s.type === 'hangup' || s.type === 'transfer') ? 'control' : 'say', (signal) => this.runSteps(steps, signal));
  }

  private async runSteps(steps: CallStep[], signal: AbortSignal): Promise<void> {
    for (const step of steps) {
      if (signal.aborted) return;
      if (step.type === 'say') await this.sayLine(phrase(step.phrase, this.language), signal);
      else if (step.type === 'listen') this.timers.awaitCaller();
      else if (step.type === 'hangup') await this.actions.hangup(step.reason);
      else if (!(await this.actions.transfer(step.reason, this.summary()))) return this.runSteps(TRANSFER_FAILED, signal);
    }
  }

  private enqueue(kind: TurnJob['kind'], run: (signal: AbortSignal) => Promise<void>): void {
    this.turns.enqueue({ kind, run: (signal) => this.track(run(signal)) });
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Says one line as its own turn and stores it (what the caller heard of it). */
  private async sayLine(text: string, signal: AbortSignal): Promise<void> {
    this.timers.agentTalking();
    this.recordAgent(await this.speaker.say([text], this.language, signal), { intent: null });
  }

  private async sayTurn(text: string, signal: AbortSignal): Promise<void> {
    await this.sayLine(text, signal);
    if (!signal.aborted) this.timers.awaitCaller();
  }

  /** Stores an agent turn with what the caller heard (`interrupted` when cut), and keeps it in the LLM history. */
  private recordAgent(s: Spoken, o: { intent: string | null; timings?: TurnTimings }): void {
    if (!s.text) return;
    this.conversation.addAgentSpeech(s.text);
    this.lastHeard = s.text;
    this.recorder.turn(agentTurn(s, this.language, o.intent, o.timings));
  }

  private observe(t: TurnTimings): void {
    const h = this.d.metrics?.turnStageMs;
    const stages: Array<[string, number | undefined]> = [
      ['endpointing', t.endpointingMs], ['stt', t.sttMs], ['llm_first_token', t.llmFirstTokenMs],
      ['tts_first_byte', t.ttsFirstByteMs], ['reply', t.replyLatencyMs], ['turn_overhead', t.turnOverheadMs],
    ];
    for (const [stage, v] of stages) if (h && v !== undefined) h.observe({ stage }, v);
  }

  /** The last turns as "Caller: … / Agent: …" (≤ 600 characters), for the human taking a transfer. */
  private summary(): string {
    return this.recorder.turns.slice(-6).map((t) => `${t.role === 'caller' ? 'Caller' : 'Agent'}: ${t.text}`).join('\n').slice(-600);
  }

  private providerError(stage: string, err: unknown): void {
    const message = safeErrorMessage(err);
    if (stage === 'vad') this.d.metrics?.vadFailedWindows.inc();
    this.log.warn({ stage, err: message }, 'provider error');
    this.recorder.event('provider.error', { stage, message });
  }

  /**
   * Ends the call within `endDeadlineMs`: the endpointer is flushed (a caller who hangs up mid-sentence is kept),
   * turns stop, utterances never answered are transcribed and stored, then the final state is written and the
   * recorder closed; `onEnded` runs only when every row made it (else the sweeper picks the call up).
   */
  private async finish(reason: string): Promise<void> {
    const until = this.clock.now() + (this.d.endDeadlineMs ?? 5_000);
    const left = () => Math.max(0, until - this.clock.now());
    this.log.info({ reason }, 'call session ending');
    this.timers.stop();
    this.turns.close(reason);
    if (this.pumping) await withDeadline(this.pumping, left());
    try {
      const tail = await withDeadline(Promise.resolve(this.d.turnDetector.flush()).then((evs) => this.onTurnEvents(evs, () => this.clock.now())), left());
      if (!tail) this.log.warn('endpointer flush did not finish before the deadline');
    } catch (err) {
      this.log.warn({ err: safeErrorMessage(err) }, 'endpointer flush failed');
    }
    await withDeadline(Promise.all([...this.inflight]), left());
    await withDeadline(this.keepUnanswered(this.input.pending), left());
    for (const t of this.held.splice(0)) this.recorder.turn(t);
    this.input.abort(reason);
    await Promise.resolve(this.d.turnDetector.close?.()).catch((err) => this.log.warn({ err: safeErrorMessage(err) }, 'turn detector close failed'));
    this.recorder.event('stream.ended', { reason, atMs: Math.round(this.now()) });
    const summary = summarizeTranscript(this.recorder.turns.map((t) => ({ ...t, intent: t.intent ?? null, interrupted: !!t.interrupted })));
    this.recorder.finish({ language: summary.language ?? this.language, intent: summary.intent });
    if (!(await this.recorder.close(left()))) return;
    await this.d.onEnded(this.d.callSid).catch((err) => this.log.error({ err: safeErrorMessage(err) }, 'post-call enqueue failed (the sweeper retries)'));
  }

  /** Stores the caller turns no reply answered (the call ended first). */
  private async keepUnanswered(items: readonly PendingUtterance[]): Promise<void> {
    for (const p of items) {
      const t = await p.transcription;
      if (t.ok && t.transcript.text.trim()) {
        this.recorder.turn({ role: 'caller', text: t.transcript.text.trim(), language: this.language, startMs: p.u.startMs, endMs: p.u.endMs, intent: null, sttConfidence: t.transcript.confidence ?? null });
      }
    }
  }
}

function agentTurn(s: Spoken, language: string, intent: string | null, timings?: TurnTimings): TurnInput {
  return { role: 'agent', text: s.text, language, startMs: s.startMs, endMs: s.endMs, intent, interrupted: !s.complete, timings };
}

function concat(frames: Int16Array[], n: number): Int16Array {
  const out = new Int16Array(n);
  let off = 0;
  for (const f of frames) {
    out.set(f, off);
    off += f.length;
  }
  return out;
}
