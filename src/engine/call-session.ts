import type { Logger } from 'pino';
import type { LlmProvider, SttProvider, ToolCall, ToolSpec, TtsProvider } from '../providers/types';
import type { TurnInput, TurnTimings } from '../domain/calls';
import type { Metrics } from '../metrics/metrics';
import type { CallControl } from '../telephony/call-control';
import { mulawDecode } from '../audio/mulaw';
import { Conversation, type AgentProfile, type CallAction, type Retriever } from './conversation';
import { decideLanguage } from './language';
import { summarizeTranscript } from '../analytics/transcript';
import { Playout, type MediaTransport } from './playout';
import { Speaker, type CachedPhrases, type ReplyTiming, type Spoken } from './speaker';
import { AsyncQueue } from './async-queue';
import { APOLOGY, TRANSFER_WORD } from './phrases';
import { phrase, type CALL_CONTROL_PHRASES } from './call-control-phrases';
import { CallFlow, type CallFlowHost, type CallLimits, type TransferRecord } from './call-flow';
import type { DeadAirGuard } from './dead-air';
import { runToolCall, type ToolRunnerDeps } from './tool-runner';
import type { TurnEvent } from './turn-detector';

export type { TurnEvent, CallLimits, TransferRecord };

/** VAD + endpointing over the caller's 8 kHz PCM. */
export interface TurnDetectorLike {
  push(samples8k: Int16Array): Promise<TurnEvent[]>;
  flush(): Promise<TurnEvent[]> | TurnEvent[];
  close?(): void | Promise<void>;
}

/** Where a session writes what happened (CallsRepo implements it). */
export interface CallStore {
  addTurn(callSid: string, t: TurnInput): Promise<number>;
  addEvent(callSid: string, type: string, payload?: Record<string, unknown>): Promise<void>;
  finish(callSid: string, f: { language: string | null; intent: string | null }): Promise<void>;
  setTransfer(callSid: string, t: TransferRecord): Promise<void>;
  setEndReason(callSid: string, reason: string): Promise<void>;
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
  /** Called once after the call's rows are written (enqueues post-call jobs). */
  onEnded: (callSid: string) => Promise<void>;
  logger: Logger;
  /** Transfer and hangup over Twilio REST; without it those actions are recorded but the call stays up. */
  callControl?: CallControl;
  metrics?: Metrics;
  /** Silence reprompts and the call's time limit. Default: 8 s, 2 reprompts, 15 min. */
  limits?: Partial<CallLimits>;
  /** Tools offered to the LLM (built-ins + the agent's HTTP tools). */
  tools?: ToolSpec[];
  /** Executes the agent's HTTP tools. */
  httpTool?: ToolRunnerDeps['httpTool'];
  /**
   * Pre-rendered 8 kHz mu-law apology per language that offers a person (ApologyCache), played when a reply failed
   * before any audio — no provider needed. After it, a caller saying the transfer word is transferred directly.
   */
  apology?: CachedPhrases;
  /** Pre-rendered short filler ("One moment, please.") per language, against dead air on slow turns. */
  filler?: CachedPhrases;
  /** Intent classifier for LLMs that do not report one (the local classifier). */
  classifyIntent?: (text: string, intents: string[], language: string) => { intent: string; confidence: number };
  /** How long `end()` waits for in-flight work after aborting it (ms); default 5000. */
  endDeadlineMs?: number;
}

type Utterance = Extract<TurnEvent, { type: 'utterance' }>;

const DEFAULT_LIMITS: CallLimits = { silenceRepromptMs: 8_000, maxReprompts: 2, maxCallDurationMs: 15 * 60_000, deadAirMs: 1_900 };

/**
 * One phone call: greets, listens (VAD + endpointing), transcribes, decides the language, answers with retrieval +
 * LLM (+ tools), and speaks the answer sentence by sentence as soon as each sentence is ready.
 *
 * Barge-in: at the caller's speech onset while the agent is talking, `clear` is sent at once (Playout.pause);
 * when the speech reaches the barge-in minimum the turn is aborted (one AbortSignal through LLM, TTS and playout)
 * and the agent turn is stored `interrupted` with only what was heard; a backchannel (shorter speech) resumes the
 * agent where it stopped and is not answered. Call control: DTMF menu, silence reprompts then hangup, a time limit,
 * and agent-initiated transfer / end of call (LLM tools). Turns run one at a time; every turn and event is written
 * in order. `end()` is idempotent. A failing provider never throws out of the session.
 */
export class CallSession {
  private readonly log: Logger;
  private readonly playout: Playout;
  private readonly speaker: Speaker;
  private readonly conversation: Conversation;
  private readonly limits: CallLimits;
  private readonly flow: CallFlow;
  private readonly t0 = performance.now();
  private vadChain: Promise<void> = Promise.resolve();
  private turnChain: Promise<void> = Promise.resolve();
  private writeChain: Promise<unknown> = Promise.resolve();
  private turnAbort: AbortController | null = null;
  private readonly callAbort = new AbortController();
  private audioMsReceived = 0;
  private vadFailed = false;
  private language: string;
  private readonly turns: TurnInput[] = [];
  private ended: Promise<void> | null = null;
  /** The speech segment that paused the agent (speechStartMs), and whether it turned out to be a backchannel. */
  private pausedBy: number | null = null;
  private backchannel: { startMs: number; bargedIn: boolean } | null = null;
  private lastHeard = '';
  /** True right after the outage apology ("say 'agent'"): the next caller turn may ask for a person. */
  private offeredTransfer = false;

  constructor(private readonly d: CallSessionDeps) {
    this.log = d.logger.child({ callSid: d.callSid, streamSid: d.streamSid, agentId: d.agent.id });
    this.playout = new Playout(d.transport);
    this.speaker = new Speaker(this.playout, d.tts, d.agent, this.t0);
    this.conversation = new Conversation(d.agent, d.llm, d.retriever);
    this.language = d.agent.defaultLanguage;
    this.limits = { ...DEFAULT_LIMITS, ...d.limits };
    this.flow = new CallFlow(this.flowHost(), { handoffNumber: d.agent.handoffNumber, callControl: d.callControl, metrics: d.metrics, store: d.store, limits: this.limits });
  }

  /** ms since the session started (the stream's clock). */
  private now(): number {
    return performance.now() - this.t0;
  }

  /** Speaks the agent's first message and starts the call's time limit. */
  start(): void {
    this.log.info('call session started');
    this.flow.start();
    this.runTurn((signal) => this.sayTurn(this.d.agent.firstMessage, signal));
  }

  /** Inbound caller audio (raw 8 kHz mu-law, any length). Processed in arrival order. */
  onMedia(mulaw: Uint8Array): void {
    if (this.ended) return;
    const samples = mulawDecode(mulaw);
    this.audioMsReceived += samples.length / 8;
    const receivedAt = performance.now();
    const audioMsAtPush = this.audioMsReceived;
    this.vadChain = this.vadChain
      .then(() => this.d.turnDetector.push(samples))
      .then((events) => this.onTurnEvents(events, receivedAt, audioMsAtPush))
      .catch((err) => {
        // Record a VAD failure once; keep listening (a transient ort error must not flood logs and rows).
        if (!this.vadFailed) this.providerError('vad', err);
        this.vadFailed = true;
      });
  }

  /**
   * A DTMF digit pressed by the caller. Digits can be PINs or card numbers, so they are never logged and are stored
   * masked (`*`, `#` and `0` — the menu keys — are kept as they are). A key of the agent's DTMF menu interrupts the
   * agent and runs its action (transfer, end_call, repeat).
   */
  onDtmf(digit: string): void {
    if (this.ended) return;
    this.log.debug('dtmf');
    const stored = /^[*#0]$/.test(digit) ? digit : 'X';
    this.write(() => this.d.store.addEvent(this.d.callSid, 'dtmf', { digit: stored, atMs: Math.round(this.now()) }));
    this.flow.callerActivity();
    const action = this.d.agent.dtmfMenu?.[digit];
    if (!action || this.flow.closing) return;
    this.d.metrics?.callControl.inc({ action: `dtmf_${action}` });
    this.interrupt('dtmf');
    if (action === 'repeat') {
      this.runTurn((signal) => this.sayTurn(this.lastHeard || this.d.agent.firstMessage, signal));
    } else {
      this.runTurn((signal) => this.flow.perform(action === 'transfer' ? { type: 'transfer', reason: 'dtmf' } : { type: 'end_call', reason: 'dtmf' }, signal, false));
    }
  }

  /**
   * Ends the call from our side, politely: whatever the agent is saying is cut, it says the goodbye line in the
   * call's language, the call is hung up over Twilio REST (`reason` is stored as the end reason, e.g. `drain`), and
   * Twilio's `stop` then ends the session. No-op once the call is closing or ended.
   */
  hangUp(reason: string): void {
    if (this.ended || this.flow.closing) return;
    this.interrupt(reason);
    this.runTurn((signal) => this.flow.perform({ type: 'end_call', reason }, signal, false));
  }

  /** A mark echoed by Twilio. */
  onMark(name: string): void {
    const kind = this.playout.onMark(name);
    this.log.debug({ mark: name, kind }, 'mark');
  }

  private onTurnEvents(events: TurnEvent[], receivedAt: number, audioMsAtPush: number): void {
    const wallAt = (audioMs: number) => receivedAt - (audioMsAtPush - audioMs);
    for (const ev of events) {
      switch (ev.type) {
        case 'speech_onset':
          this.flow.callerActivity();
          if (this.playout.speaking && !this.playout.paused && !this.flow.closing && this.playout.pause()) {
            this.pausedBy = ev.speechStartMs;
            this.log.debug({ atMs: ev.atMs }, 'agent paused at speech onset');
          }
          break;
        case 'barge_in':
          if (this.backchannel?.startMs === ev.speechStartMs) this.backchannel.bargedIn = true;
          if (this.flow.closing) break;
          if (this.playout.paused || this.playout.speaking) this.bargeIn(ev.atMs, ev.speechStartMs);
          break;
        case 'backchannel':
          if (this.playout.paused && this.pausedBy === ev.speechStartMs) {
            this.pausedBy = null;
            this.backchannel = { startMs: ev.speechStartMs, bargedIn: false };
            this.playout.resume();
            this.write(() => this.d.store.addEvent(this.d.callSid, 'backchannel', { atMs: Math.round(ev.atMs), speechMs: Math.round(ev.speechMs) }));
          }
          break;
        case 'utterance':
          if (this.flow.closing) break;
          if (this.backchannel?.startMs === ev.startMs && !this.backchannel.bargedIn) break; // "mm-hm" over the agent: not a turn
          // The end-of-turn decision is made now (the VAD has just seen enough silence): turn overhead counts from here.
          this.runTurn((signal) => this.answer(ev, wallAt(ev.endMs), performance.now(), signal));
          break;
        default:
          break;
      }
    }
  }

  /** Caller speech confirmed while the agent talks: stop the audio (if the onset did not already) and abort the turn. */
  private bargeIn(atMs: number, speechStartMs: number): void {
    this.interrupt('barge-in');
    const heard = this.playout.heard();
    this.log.info({ atMs, heardChars: heard.text.length }, 'barge-in');
    this.d.metrics?.bargeIns.inc();
    this.write(() => this.d.store.addEvent(this.d.callSid, 'barge_in', { atMs: Math.round(atMs), speechStartMs: Math.round(speechStartMs) }));
  }

  /** Stops whatever the agent is doing (barge-in, DTMF action, time limit): audio cleared, turn aborted. */
  private interrupt(reason: string): void {
    this.playout.stop();
    this.pausedBy = null;
    this.turnAbort?.abort(new Error(reason));
  }

  /** Queues a turn; turns run one at a time, each with its own AbortController chained to the call's. */
  private runTurn(fn: (signal: AbortSignal) => Promise<void>): void {
    this.turnChain = this.turnChain.then(async () => {
      if (this.callAbort.signal.aborted) return;
      const ac = new AbortController();
      const onCallAbort = () => ac.abort(this.callAbort.signal.reason);
      this.callAbort.signal.addEventListener('abort', onCallAbort, { once: true });
      this.turnAbort = ac;
      try {
        await fn(ac.signal);
      } catch (err) {
        if (!ac.signal.aborted) this.providerError('turn', err);
      } finally {
        this.callAbort.signal.removeEventListener('abort', onCallAbort);
        if (this.turnAbort === ac) this.turnAbort = null;
      }
    });
  }

  private async answer(u: Utterance, speechEndWall: number, decidedWall: number, signal: AbortSignal): Promise<void> {
    const timings: TurnTimings = { endpointingMs: Math.round(u.endpointedAtMs - u.endMs) };
    this.playout.beginUtterance();
    const guard = this.armDeadAirGuard(speechEndWall, signal);
    try {
      await this.reply(u, speechEndWall, decidedWall, timings, guard, signal);
    } finally {
      guard?.cancel();
    }
  }

  /** Arms the filler against dead air (see {@link DeadAirGuard}); null when disabled or no filler is cached. */
  private armDeadAirGuard(speechEndWall: number, signal: AbortSignal): DeadAirGuard | null {
    if (!this.d.filler || this.limits.deadAirMs <= 0) return null;
    return this.speaker.armFiller(this.d.filler, this.language, speechEndWall + this.limits.deadAirMs, signal, () => this.log.info('dead air: playing the filler'));
  }

  private async reply(u: Utterance, speechEndWall: number, decidedWall: number, timings: TurnTimings, guard: DeadAirGuard | null, signal: AbortSignal): Promise<void> {
    const sttStart = performance.now();
    const transcript = await this.d.stt.transcribe(u.audio, { languageHint: this.language, signal });
    timings.sttMs = Math.round(performance.now() - sttStart);
    const text = transcript.text.trim();
    if (!text) {
      this.write(() => this.d.store.addEvent(this.d.callSid, 'stt.empty', { startMs: u.startMs, endMs: u.endMs }));
      if (guard?.playing) await guard.playing;
      if (!signal.aborted) this.flow.awaitCaller();
      return;
    }
    const lang = decideLanguage({ text, sttLanguage: transcript.language, prior: this.language, supported: this.d.agent.languages });
    this.language = lang.replyLanguage;
    const callerTurn: TurnInput = { role: 'caller', text, language: lang.language, startMs: u.startMs, endMs: u.endMs, sttConfidence: transcript.confidence ?? null };
    if (this.offeredTransfer && asksForPerson(text, lang.replyLanguage)) {
      // The outage apology offered a person and the caller asked for one: no provider needed for this.
      this.offeredTransfer = false;
      this.recordTurn({ ...callerTurn, intent: 'human_handoff' });
      await this.flow.perform({ type: 'transfer', reason: 'caller asked for a person after a provider outage' }, signal, false);
      return;
    }
    this.offeredTransfer = false;

    const llmStart = performance.now();
    let intent: string | null = null;
    let action: CallAction | null = null;
    let failure: unknown = null;
    const segments = new AsyncQueue<string>();
    signal.addEventListener('abort', () => segments.close(), { once: true });
    // A caller speaking a language the agent does not speak is told so, in the agent's default language.
    if (lang.language !== lang.replyLanguage && lang.source !== 'prior') segments.push(phrase('unsupportedLanguage', lang.replyLanguage));
    const producer = (async () => {
      try {
        const tools = { tools: this.d.tools, runTool: this.d.tools?.length ? (call: ToolCall, s: AbortSignal) => this.runTool(call, s) : undefined };
        for await (const ev of this.conversation.reply(text, lang.replyLanguage, signal, tools)) {
          if (ev.type === 'intent') intent = ev.intent;
          else if (ev.type === 'first_token') timings.llmFirstTokenMs = Math.round(ev.at - llmStart);
          else if (ev.type === 'segment') segments.push(ev.text);
          else if (ev.type === 'action') action = ev.action;
          else this.write(() => this.d.store.addEvent(this.d.callSid, 'tool', { name: ev.name, ok: ev.ok }));
        }
      } catch (err) {
        if (!signal.aborted) failure = err;
      } finally {
        segments.close();
      }
    })();
    let spoken = await this.say(segments, signal, { timings, speechEndWall, decidedWall, guard, continueUtterance: true });
    await producer;
    failure ??= spoken.error;
    if (failure && !spoken.synthesized && !signal.aborted) {
      // The reply failed before any of its audio (a dead-air filler may have played): apologise with cached audio
      // (no provider needed) and offer a person.
      this.providerError('reply', failure);
      guard?.cancel();
      spoken = await this.sayApology(lang.replyLanguage, signal);
    } else if (failure) {
      this.providerError('reply', failure);
    }
    callerTurn.intent = intent ?? this.d.classifyIntent?.(text, this.d.agent.intents, lang.replyLanguage).intent ?? null;
    this.recordTurn(callerTurn);
    this.recordAgent(spoken, { intent: callerTurn.intent, timings, language: lang.replyLanguage });
    this.observe(timings);
    this.log.info({ ...timings, language: lang.language, replyLanguage: lang.replyLanguage, intent: callerTurn.intent, interrupted: !spoken.complete, callerChars: text.length, heardChars: spoken.text.length }, 'turn answered');
    if (signal.aborted) return;
    if (action) await this.flow.perform(action, signal, !!spoken.text);
    else this.flow.awaitCaller();
  }

  private runTool(call: ToolCall, signal: AbortSignal) {
    return runToolCall(call, { agent: this.d.agent, callSid: this.d.callSid, retriever: this.d.retriever, language: () => this.language, httpTool: this.d.httpTool }, signal);
  }

  /** Speaks `segments` in the call's language as one utterance (see {@link Speaker.say}); silence is not timed meanwhile. */
  private say(segments: AsyncIterable<string> | string[], signal: AbortSignal, t?: ReplyTiming): Promise<Spoken> {
    this.flow.agentTalking();
    return this.speaker.say(segments, this.language, signal, t);
  }

  /** Says one line and stores it as an agent turn (what the caller heard of it). */
  private async sayLine(text: string, signal: AbortSignal): Promise<void> {
    this.recordAgent(await this.say([text], signal), { intent: null });
  }

  /** A turn that only says `text` (greeting, DTMF repeat), then waits for the caller. */
  private async sayTurn(text: string, signal: AbortSignal): Promise<void> {
    await this.sayLine(text, signal);
    if (!signal.aborted) this.flow.awaitCaller();
  }

  /** Plays the cached apology that offers a person (no provider needed), else synthesizes the short one. */
  private sayApology(language: string, signal: AbortSignal): Promise<Spoken> {
    if (!this.d.apology) return this.say([APOLOGY[language] ?? APOLOGY.en], signal);
    this.offeredTransfer = true;
    return this.speaker.playCached(this.d.apology, language, 'apology', signal);
  }

  /** The session as its {@link CallFlow} sees it. */
  private flowHost(): CallFlowHost {
    return {
      callSid: this.d.callSid,
      log: this.log,
      sayPhrase: (kind: keyof typeof CALL_CONTROL_PHRASES, signal: AbortSignal) => this.sayLine(phrase(kind, this.language), signal),
      runTurn: (fn) => this.runTurn(fn),
      interrupt: (reason) => this.interrupt(reason),
      isEnded: () => this.ended !== null,
      summary: () => this.summary(),
      providerError: (stage, err) => this.providerError(stage, err),
      write: (fn) => this.write(fn),
    };
  }

  /** Stores an agent turn with what the caller heard (`interrupted` when it was cut), and keeps it in the history. */
  private recordAgent(s: Spoken, o: { intent: string | null; timings?: TurnTimings; language?: string }): void {
    if (!s.text) return;
    this.conversation.addAgentSpeech(s.text);
    this.lastHeard = s.text;
    this.recordTurn({ role: 'agent', text: s.text, language: o.language ?? this.language, startMs: s.startMs, endMs: s.endMs, intent: o.intent, interrupted: !s.complete, timings: o.timings });
  }

  private observe(t: TurnTimings): void {
    const h = this.d.metrics?.turnStageMs;
    if (!h) return;
    const stages: Array<[string, number | undefined]> = [
      ['endpointing', t.endpointingMs], ['stt', t.sttMs], ['llm_first_token', t.llmFirstTokenMs],
      ['tts_first_byte', t.ttsFirstByteMs], ['reply', t.replyLatencyMs], ['turn_overhead', t.turnOverheadMs],
    ];
    for (const [stage, v] of stages) if (v !== undefined) h.observe({ stage }, v);
  }

  /** The last turns as "Caller: … / Agent: …" (≤ 600 characters), for the human taking a transfer. */
  private summary(): string {
    const lines = this.turns.slice(-6).map((t) => `${t.role === 'caller' ? 'Caller' : 'Agent'}: ${t.text}`);
    return lines.join('\n').slice(-600);
  }

  private recordTurn(t: TurnInput): void {
    this.turns.push(t);
    this.write(() => this.d.store.addTurn(this.d.callSid, t));
  }

  /** Serialises store writes so turn order and events are preserved; write failures are logged, never thrown. */
  private write(fn: () => Promise<unknown>): void {
    this.writeChain = this.writeChain.then(fn).catch((err) => this.log.error({ err }, 'store write failed'));
  }

  private providerError(stage: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ stage, err: message }, 'provider error');
    this.write(() => this.d.store.addEvent(this.d.callSid, 'provider.error', { stage, message: message.slice(0, 300) }));
  }

  /**
   * Ends the call (stream `stop` or socket closed): aborts the current turn, waits for work to settle, writes the
   * call's final state (dominant language, last intent), then calls `onEnded` once.
   */
  end(reason: string): Promise<void> {
    if (!this.ended) this.ended = this.doEnd(reason);
    return this.ended;
  }

  private async doEnd(reason: string): Promise<void> {
    this.log.info({ reason, turns: this.turns.length }, 'call session ending');
    this.flow.stop();
    this.callAbort.abort(new Error(reason));
    // A provider that ignores its AbortSignal must not keep the call from being finished.
    const deadlineMs = this.d.endDeadlineMs ?? END_DEADLINE_MS;
    const settled = await withDeadline(Promise.all([this.vadChain, this.turnChain]), deadlineMs);
    if (!settled) this.log.warn({ deadlineMs }, 'turn did not stop after abort; finishing the call anyway');
    try {
      await this.d.turnDetector.close?.();
    } catch (err) {
      this.log.warn({ err }, 'turn detector close failed');
    }
    this.write(() => this.d.store.addEvent(this.d.callSid, 'stream.ended', { reason, atMs: Math.round(this.now()) }));
    await withDeadline(this.writeChain, deadlineMs);
    try {
      const summary = summarizeTranscript(this.turns);
      await this.d.store.finish(this.d.callSid, { language: summary.language ?? this.language, intent: summary.intent });
      await this.d.onEnded(this.d.callSid);
    } catch (err) {
      this.log.error({ err }, 'finishing call failed (the sweeper retries post-call work)');
    }
  }
}

/** Whether `text` asks for a person: the transfer word the apology offered, in `language` or English. */
function asksForPerson(text: string, language: string): boolean {
  const words = new Set([TRANSFER_WORD[language], TRANSFER_WORD.en].filter(Boolean).map((w) => w.toLowerCase()));
  const lower = text.toLowerCase();
  return [...words].some((w) => new RegExp(`(^|[^\\p{L}])${w}([^\\p{L}]|$)`, 'u').test(lower));
}

/** Default of how long `end()` waits for in-flight work after aborting it (ms). */
const END_DEADLINE_MS = 5_000;

/** Resolves true when `p` settles within `ms`, false otherwise (the timer never keeps the process alive). */
async function withDeadline(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true, () => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
