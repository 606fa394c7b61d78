import type { Logger } from 'pino';
import type { LlmProvider, SttProvider, TtsProvider } from '../providers/types';
import type { TurnInput, TurnTimings } from '../db/calls';
import { mulawDecode } from '../audio/mulaw';
import { Conversation, type AgentProfile, type Retriever } from './conversation';
import { decideLanguage } from './language';
import { summarizeTranscript } from '../analytics/transcript';
import { MULAW_BYTES_PER_MS, Playout, type MediaTransport } from './playout';
import { AsyncQueue } from './async-queue';
import { APOLOGY } from './phrases';
import type { TurnEvent } from './turn-detector';

export type { TurnEvent };

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
  /** How long `end()` waits for in-flight work after aborting it (ms); default 5000. */
  endDeadlineMs?: number;
}

/**
 * One phone call: greets, listens (VAD + endpointing), transcribes, decides the language, answers with retrieval +
 * LLM, speaks the answer sentence by sentence, and on barge-in (caller speech confirmed by the VAD while agent audio
 * is still buffered at Twilio) sends `clear` and aborts the turn. Turns run one at a time; every turn and event is
 * written to the store in order. `end()` is idempotent: it aborts work, writes the call's final state, then calls
 * `onEnded`. A failing provider never throws out of the session: it is logged and recorded as an event.
 */
export class CallSession {
  private readonly log: Logger;
  private readonly playout: Playout;
  private readonly conversation: Conversation;
  private readonly t0 = performance.now();
  private vadChain: Promise<void> = Promise.resolve();
  private turnChain: Promise<void> = Promise.resolve();
  private writeChain: Promise<unknown> = Promise.resolve();
  private turnAbort: AbortController | null = null;
  private readonly callAbort = new AbortController();
  private audioMsReceived = 0;
  private vadFailed = false;
  private turnNo = 0;
  private language: string;
  private readonly turns: TurnInput[] = [];
  private ended: Promise<void> | null = null;

  constructor(private readonly d: CallSessionDeps) {
    this.log = d.logger.child({ callSid: d.callSid, streamSid: d.streamSid, agentId: d.agent.id });
    this.playout = new Playout(d.transport);
    this.conversation = new Conversation(d.agent, d.llm, d.retriever);
    this.language = d.agent.defaultLanguage;
  }

  /** ms since the session started (the stream's clock). */
  private now(): number {
    return performance.now() - this.t0;
  }

  /** Speaks the agent's first message. */
  start(): void {
    this.log.info('call session started');
    this.runTurn(async (signal) => {
      const text = this.d.agent.firstMessage;
      const r = await this.speak([text], signal);
      if (r.spoken) {
        this.conversation.addAgentSpeech(r.spoken);
        this.recordTurn({ role: 'agent', text: r.spoken, language: this.language, startMs: r.startMs, endMs: r.endMs, interrupted: r.aborted });
      }
    });
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
   * masked (`*`, `#` and `0` — the menu keys — are kept as they are).
   */
  onDtmf(digit: string): void {
    this.log.debug('dtmf');
    const stored = /^[*#0]$/.test(digit) ? digit : 'X';
    this.write(() => this.d.store.addEvent(this.d.callSid, 'dtmf', { digit: stored, atMs: Math.round(this.now()) }));
  }

  /** A mark echoed by Twilio. */
  onMark(name: string): void {
    const kind = this.playout.onMark(name);
    this.log.debug({ mark: name, kind }, 'mark');
  }

  private onTurnEvents(events: TurnEvent[], receivedAt: number, audioMsAtPush: number): void {
    for (const ev of events) {
      if (ev.type === 'speech_start') {
        if (this.playout.speaking) this.bargeIn(ev.atMs);
      } else {
        const speechEndWall = receivedAt - (audioMsAtPush - ev.endMs);
        this.runTurn((signal) => this.answer(ev, speechEndWall, signal));
      }
    }
  }

  private bargeIn(atMs: number): void {
    this.log.info({ atMs }, 'barge-in');
    this.playout.clear();
    this.turnAbort?.abort(new Error('barge-in'));
    this.write(() => this.d.store.addEvent(this.d.callSid, 'barge_in', { atMs: Math.round(atMs) }));
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

  private async answer(u: Extract<TurnEvent, { type: 'utterance' }>, speechEndWall: number, signal: AbortSignal): Promise<void> {
    const timings: TurnTimings = { endpointingMs: Math.round(u.endpointedAtMs - u.endMs) };
    const sttStart = performance.now();
    const transcript = await this.d.stt.transcribe(u.audio, { languageHint: this.language, signal });
    timings.sttMs = Math.round(performance.now() - sttStart);
    const text = transcript.text.trim();
    if (!text) {
      this.write(() => this.d.store.addEvent(this.d.callSid, 'stt.empty', { startMs: u.startMs, endMs: u.endMs }));
      return;
    }
    const lang = decideLanguage({ text, sttLanguage: transcript.language, prior: this.language, supported: this.d.agent.languages });
    this.language = lang.replyLanguage;
    const callerTurn: TurnInput = { role: 'caller', text, language: lang.language, startMs: u.startMs, endMs: u.endMs, sttConfidence: transcript.confidence ?? null };

    const llmStart = performance.now();
    let intent: string | null = null;
    let failure: unknown = null;
    const segmentQueue = new AsyncQueue<string>();
    signal.addEventListener('abort', () => segmentQueue.close(), { once: true });
    const producer = (async () => {
      try {
        for await (const ev of this.conversation.reply(text, lang.replyLanguage, signal)) {
          if (ev.type === 'intent') intent = ev.intent;
          else if (ev.type === 'first_token') timings.llmFirstTokenMs = Math.round(ev.at - llmStart);
          else segmentQueue.push(ev.text);
        }
      } catch (err) {
        if (!signal.aborted) failure = err;
      } finally {
        segmentQueue.close();
      }
    })();
    let spoken = { spoken: '', startMs: 0, endMs: 0, aborted: false };
    try {
      spoken = await this.speak(segmentQueue, signal, timings, speechEndWall);
    } catch (err) {
      if (!signal.aborted) failure = err;
    }
    await producer;
    if (failure && !spoken.spoken && !signal.aborted) {
      // The reply failed before any audio: say so rather than leave the caller in silence.
      this.providerError('reply', failure);
      failure = null;
      spoken = await this.speak([APOLOGY[lang.replyLanguage] ?? APOLOGY.en], signal).catch(() => spoken);
    }
    callerTurn.intent = intent;
    this.recordTurn(callerTurn);
    if (spoken.spoken) {
      this.conversation.addAgentSpeech(spoken.spoken);
      this.recordTurn({ role: 'agent', text: spoken.spoken, language: lang.replyLanguage, startMs: spoken.startMs, endMs: spoken.endMs, intent, interrupted: spoken.aborted, timings });
    }
    if (failure) throw failure;
    this.log.info({ ...timings, language: lang.language, replyLanguage: lang.replyLanguage, intent, callerChars: text.length, agentChars: spoken.spoken.length }, 'turn answered');
  }

  /**
   * Speaks segments in order (each: TTS → playout → mark). Returns the text whose audio was sent, its span on the
   * session clock (ms), and whether it was cut short. Fills ttsFirstByteMs / replyLatencyMs on the first audio.
   */
  private async speak(
    segments: AsyncIterable<string> | string[],
    signal: AbortSignal,
    timings?: TurnTimings,
    speechEndWall?: number,
  ): Promise<{ spoken: string; startMs: number; endMs: number; aborted: boolean }> {
    const turn = ++this.turnNo;
    const spoken: string[] = [];
    let startMs = -1;
    let bytes = 0;
    let seg = 0;
    for await (const text of segments) {
      if (signal.aborted) break;
      const ttsStart = performance.now();
      const voice = this.d.agent.voices[this.language];
      const r = await this.playout.playSegment(this.d.tts.synthesize(text, { voice, language: this.language, signal }), `turn-${turn}-seg-${++seg}`, signal);
      if (r.firstAudioAt !== null) {
        if (startMs < 0) {
          startMs = r.firstAudioAt - this.t0;
          if (timings) {
            timings.ttsFirstByteMs = Math.round(r.firstAudioAt - ttsStart);
            if (speechEndWall !== undefined) timings.replyLatencyMs = Math.round(r.firstAudioAt - speechEndWall);
          }
        }
        spoken.push(text);
      }
      bytes += r.bytes;
      if (r.aborted) break;
    }
    const s = Math.max(0, startMs);
    return { spoken: spoken.join(' '), startMs: s, endMs: s + bytes / MULAW_BYTES_PER_MS, aborted: signal.aborted };
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
