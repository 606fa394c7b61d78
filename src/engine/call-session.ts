import type { Logger } from 'pino';
import type { TurnInput, TurnTimings } from '../domain/calls';
import type { CallStore } from '../domain/ports';
import type { ToolCall } from '../providers/types';
import { safeErrorMessage } from '../domain/redact';
import { greetingFor, maxCallDurationFor } from '../domain/call-settings';
import { CallActions } from './call-actions';
import { closeCall } from './call-end';
import { phrase } from './call-control-phrases';
import { MAX_DURATION_PLAN, planAction, planSilence, planTransferTo, TRANSFER_FAILED, type CallStep } from './call-plan';
import { CallTimers, type CallLimits, type TimerEvent } from './call-timers';
import { CsatSurvey } from './csat-survey';
import { adaptiveEndpointingFor, Speculator } from './speculation';
import { CallerInput, type Utterance } from './caller-input';
import { systemClock, type Clock } from './clock';
import { Conversation } from './conversation';
import { InterruptionController } from './interruption';
import { Playout } from './playout';
import { CallRecorder } from './recorder';
import { CallUsage, withUsage } from './call-usage';
import { ReplyPipeline, type ReplyOutcome } from './reply-pipeline';
import type { CallSessionDeps } from './session-deps';
import { agentTurn, Speaker, type Spoken } from './speaker';
import { runToolCall } from './tool-runner';
import type { TurnEvent } from './turn-detector';
import { InboundAudio, type TurnDetectorLike } from './inbound-audio';
import { observeTimings } from './turn-metrics';
import { CallOutcomeActions } from './call-outcome-actions';
import { keepBackchannel, routeTurnEvents, type TurnEventParts } from './turn-events';
import { TurnQueue, type TurnJob } from './turn-queue';

export type { TurnEvent, CallLimits, CallStore, TurnDetectorLike, CallSessionDeps };

const DEFAULT_LIMITS: CallLimits = { silenceRepromptMs: 8_000, maxReprompts: 2, maxCallDurationMs: 15 * 60_000, deadAirMs: 1_900, minSttConfidence: 0 };

/**
 * One phone call. Caller audio → VAD/endpointing events → {@link InterruptionController} (pause, barge-in,
 * backchannel) and {@link CallerInput} (every accepted utterance is transcribed at once and kept until answered) →
 * one {@link TurnQueue} of agent turns: the greeting, replies ({@link ReplyPipeline}), and call-control plans
 * (reprompts, goodbye, transfer, hangup). A caller who keeps talking before the reply's first real audio gets one
 * answer to everything said (the stale reply is cancelled). Every row goes through the {@link CallRecorder}, closed
 * at the end; what the providers consumed ({@link CallUsage}: STT seconds, LLM tokens, TTS characters, per provider
 * that served) is summed in memory and written with the call's final rows. A failing provider never throws out of the session; `end()` is idempotent. `d.agent` is the call's
 * snapshot: its greeting, endpointing, barge-in and time limit are taken from it at construction.
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
  private readonly speculator: Speculator;
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
  private readonly inbound: InboundAudio;
  private ended: Promise<void> | null = null;
  private readonly outcomes: CallOutcomeActions;
  private readonly eventParts: TurnEventParts;
  /** What the call's providers consumed (written at the end, with the call's rows). */
  private readonly usage = new CallUsage();
  /** The end-of-call CSAT survey (runs only when the agent has it on and ends the conversation itself). */
  private readonly survey: CsatSurvey;

  constructor(private readonly d: CallSessionDeps) {
    this.log = d.logger.child({ callSid: d.callSid, streamSid: d.streamSid, agentId: d.agent.id });
    this.clock = d.clock ?? systemClock;
    this.t0 = this.clock.now();
    this.limits = { ...DEFAULT_LIMITS, ...d.limits, maxCallDurationMs: maxCallDurationFor(d.agent, d.limits?.maxCallDurationMs ?? DEFAULT_LIMITS.maxCallDurationMs) };
    this.language = d.agent.defaultLanguage;
    this.recorder = new CallRecorder(d.store, d.callSid, this.log);
    this.playout = new Playout(d.transport, this.clock);
    const metered = withUsage(d, this.usage.sink);
    this.speaker = new Speaker(this.playout, metered.tts, d.agent, this.t0, this.clock);
    this.conversation = new Conversation(d.agent, metered.llm, d.retriever, () => this.clock.now());
    this.turns = new TurnQueue((err) => this.providerError('turn', err));
    this.input = new CallerInput(metered.stt, this.clock);
    const detector = d.turnDetector;
    const setSilence = detector.endpointAfter ? (startMs: number, endMs: number, ms: number) => void detector.endpointAfter?.(startMs, endMs, ms) : null;
    this.speculator = new Speculator((audio, hint, signal) => this.input.transcribe({ audio }, hint, signal), setSilence, adaptiveEndpointingFor(d.agent, d.adaptiveEndpointing ?? null));
    this.actions = new CallActions({ callSid: d.callSid, handoffNumber: d.agent.handoffNumber, callControl: d.callControl, recorder: this.recorder, metrics: d.metrics, log: this.log, onError: (s, e) => this.providerError(s, e) });
    this.interruptions = new InterruptionController(this.playout, this.turns, () => this.actions.closing !== null, d.agent.endpointing?.bargeIn !== false);
    this.timers = new CallTimers(this.limits, (ev) => this.onTimer(ev));
    this.inbound = new InboundAudio(d.turnDetector, this.clock, (evs, wallAt) => this.onTurnEvents(evs, wallAt), (err) => this.providerError('vad', err));
    const runTool = (call: ToolCall, signal: AbortSignal, language: string) =>
      runToolCall(call, { agent: d.agent, callSid: d.callSid, retriever: d.retriever, language: () => language, httpTool: d.httpTool, ...this.outcomes.tools }, signal);
    this.outcomes = new CallOutcomeActions({
      d, log: this.log, actions: this.actions, interruptions: this.interruptions, input: this.input, ended: () => !!this.ended, language: () => this.language,
      recordCaller: (t) => this.recorder.turn(t), turns: () => this.recorder.turns, track: (p) => this.track(p), enqueue: (k, run) => this.enqueue(k, run), enqueuePlan: (steps) => this.enqueuePlan(steps),
      sayLine: (text, signal) => this.sayLine(text, signal), sayTurn: (text, signal) => this.sayTurn(text, signal), report: (e) => this.providerError('outcome', e),
    });
    this.survey = new CsatSurvey({ agent: d.agent, language: () => this.language, sayLine: (text, signal) => this.sayLine(text, signal), event: (type, payload) => this.recorder.event(type, payload), now: () => this.now() });
    this.eventParts = { timers: this.timers, interruptions: this.interruptions, speculator: this.speculator, recorder: this.recorder, log: this.log, metrics: d.metrics, language: () => this.language, onUtterance: (u, endWall) => this.onUtterance(u, endWall, this.clock.now()) };
    this.pipeline = new ReplyPipeline({
      agent: d.agent, conversation: this.conversation, speaker: this.speaker, clock: this.clock, deadAirMs: this.limits.deadAirMs, minSttConfidence: this.limits.minSttConfidence, tools: d.tools,
      runTool, cached: { apology: d.apology, filler: d.filler, didNotCatch: d.didNotCatch, notUnderstood: d.notUnderstood }, classifyIntent: d.classifyIntent,
    });
  }

  /** Starts the time limit and the greeting ({@link greetingFor}): at once (inbound), after an outbound callee's "hello?" or a wait. */
  start(): void {
    this.log.info('call session started');
    this.timers.start();
    this.outcomes.flow.start();
  }

  /** Twilio's async AMD result (`AnsweredBy`): a finished machine greeting → voicemail, then hang up; `fax` → hang up. */
  onAnsweredBy(answeredBy: string): void {
    if (!this.ended) this.outcomes.flow.answeredBy(answeredBy);
  }

  /** Inbound caller audio (raw 8 kHz mu-law, any length). @throws Error when too much waits for the VAD (see InboundAudio). */
  onMedia(mulaw: Uint8Array): void {
    if (!this.ended) this.inbound.push(mulaw);
  }

  /**
   * A DTMF digit. Never logged; stored masked (`*`, `#`, `0` kept). While the CSAT survey runs it is the survey's
   * answer; otherwise a menu key interrupts and runs its action.
   */
  onDtmf(digit: string): void {
    if (this.ended) return;
    this.recorder.event('dtmf', { digit: /^[*#0]$/.test(digit) ? digit : 'X', atMs: Math.round(this.now()) });
    this.timers.callerActivity();
    if (this.survey.offerDigit(digit)) return;
    const action = this.d.agent.dtmfMenu?.[digit];
    if (!action || this.actions.closing) return;
    this.d.metrics?.callControl.inc({ action: `dtmf_${action}` });
    this.interruptions.interrupt('dtmf');
    if (action === 'opt_out') this.outcomes.optOut('dtmf', null);
    else if (action === 'repeat') this.enqueue('say', (signal) => this.sayTurn(this.lastHeard || greetingFor(this.d.agent, this.language), signal));
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

  /**
   * A supervisor's transfer to `target` (E.164): the agent is cut, says the handoff line, and the call is redirected
   * with `<Dial>` over Twilio REST (stored with `reason`). Ignored once the call is ending or closing; if Twilio
   * refuses, the agent says no one is available and the call goes on.
   */
  transferTo(target: string, reason: string): void {
    if (this.ended || this.actions.closing) return;
    this.actions.beginClosing('transfer');
    this.interruptions.interrupt(reason);
    this.enqueuePlan(planTransferTo(target, reason));
  }

  /** Ends the call (stream `stop` or socket closed); see class doc. Resolves when its rows are written. */
  end(reason: string): Promise<void> {
    this.ended ??= this.finish(reason);
    return this.ended;
  }

  private now(): number {
    return this.clock.now() - this.t0;
  }

  private onTurnEvents(events: TurnEvent[], wallAt: (audioMs: number) => number): void {
    // The end of turn is decided now (the VAD has just seen enough silence): turn overhead counts from here.
    routeTurnEvents(events, wallAt, this.eventParts);
  }

  private onUtterance(u: Utterance, speechEndWall: number, decidedWall: number): void {
    if (this.interruptions.wasBackchannel(u)) return this.keepBackchannel(u);
    const p = this.input.add(u, speechEndWall, decidedWall, this.language, this.speculator.take(u));
    if (this.survey.active) this.track(p.transcription.then((t) => t.ok && this.survey.offerSpeech(t.transcript.text))); // "five"
    if (this.actions.closing) return; // kept and recorded at the end, not answered
    if (this.outcomes.flow.heard(p)) return; // an outbound callee's "hello?": answered by the greeting
    if (this.turns.running === 'answer' && this.answering && !this.answering.committed) this.turns.abortCurrent('caller kept talking');
    if (!this.turns.hasQueued('answer')) this.enqueue('answer', (signal) => this.answer(signal));
  }

  /** An "mm-hm" over the agent: transcribed and kept in the transcript, not answered. */
  private keepBackchannel(u: Utterance): void {
    this.track(keepBackchannel(u, this.speculator.take(u) ?? this.input.transcribe(u, this.language), this.language, this.recorder));
  }

  private async answer(signal: AbortSignal): Promise<void> {
    const items = [...this.input.pending];
    if (!items.length) return;
    this.timers.agentTalking();
    const state = { committed: false };
    this.answering = state;
    const out = await this.pipeline.run({ items, language: this.language, offeredTransfer: this.offeredTransfer }, signal, (caller, language) => {
      state.committed = true;
      this.language = language; // what follows this reply (a goodbye, a reprompt) speaks its language
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
      if (out.heard?.text) this.held.push(agentTurn(out.heard, out.language, null));
      return;
    }
    for (const err of out.sttErrors) this.providerError('stt', err);
    if (out.kind === 'empty' || out.kind === 'not_understood') this.recorder.event(out.kind === 'empty' ? 'stt.empty' : 'stt.failed', {});
    if (out.kind === 'unintelligible') this.recorder.event('stt.unintelligible', { confidence: out.caller?.sttConfidence ?? null });
    for (const t of out.tools) this.recorder.event('tool', t);
    if (out.error) this.providerError('reply', out.error);
    this.offeredTransfer = out.offeredTransfer;
    this.conversation.commit(out.draft);
    const answered = out.kind === 'answered';
    if (out.heard) this.recordAgent(out.heard, { intent: out.caller?.intent ?? null, language: out.language, timings: answered ? out.timings : undefined });
    if (answered && this.d.metrics) observeTimings(this.d.metrics, out.timings);
    this.log.info({ ...out.timings, kind: out.kind, language: out.language, intent: out.caller?.intent ?? null, interrupted: out.heard ? !out.heard.complete : false }, 'turn answered');
    if (signal.aborted) return;
    // The CSAT survey follows the agent's own end of the conversation only (not an opt-out's confirmation).
    const survey = this.survey.enabled && out.action?.type === 'end_call' && out.action.reason !== 'opt_out';
    if (out.action) await this.runSteps(planAction(out.action, { alreadySpoke: !!out.heard?.text && answered, canTransfer: this.actions.canTransfer, survey }), signal);
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
      if (step.type === 'close') this.actions.beginClosing(step.reason);
      else if (step.type === 'say') await this.sayLine(phrase(step.phrase, this.language), signal);
      else if (step.type === 'listen') this.timers.awaitCaller();
      else if (step.type === 'survey') await this.survey.run(signal);
      else if (step.type === 'hangup') await this.actions.hangup(step.reason);
      else if (!(await this.actions.transfer(step.reason, this.recorder.summary(step.reason), step.target))) return this.runSteps(TRANSFER_FAILED, signal);
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
  private async sayLine(text: string, signal: AbortSignal): Promise<Spoken> {
    this.timers.agentTalking();
    const language = this.language;
    const spoken = await this.speaker.say([text], language, signal);
    this.recordAgent(spoken, { intent: null, language });
    return spoken;
  }

  private async sayTurn(text: string, signal: AbortSignal): Promise<void> {
    await this.sayLine(text, signal);
    if (!signal.aborted) this.timers.awaitCaller();
  }

  /** Stores an agent turn with what the caller heard (`interrupted` when cut), and keeps it in the LLM history. */
  private recordAgent(s: Spoken, o: { intent: string | null; language: string; timings?: TurnTimings }): void {
    if (!s.text) return;
    this.conversation.addAgentSpeech(s.text);
    this.lastHeard = s.text;
    this.recorder.turn(agentTurn(s, o.language, o.intent, o.timings));
  }

  private providerError(stage: string, err: unknown): void {
    const message = safeErrorMessage(err);
    if (stage === 'vad') this.d.metrics?.vadFailedWindows.inc();
    this.log.warn({ stage, err: message }, 'provider error');
    this.recorder.event('provider.error', { stage, message });
  }

  /** Ends the call within `endDeadlineMs` (see {@link closeCall}). */
  private finish(reason: string): Promise<void> {
    this.outcomes.flow.stop();
    return closeCall(reason, {
      ...this.d, clock: this.clock, log: this.log, deadlineMs: this.d.endDeadlineMs ?? 5_000, t0: this.t0, language: this.language,
      timers: this.timers, turns: this.turns, inbound: this.inbound, input: this.input, recorder: this.recorder,
      inflight: this.inflight, onTurnEvents: (evs, wallAt) => this.onTurnEvents(evs, wallAt), held: () => this.held.splice(0), usage: this.usage,
    });
  }
}
