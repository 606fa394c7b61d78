import pino from 'pino';
import { CallSession, type CallSessionDeps, type TurnDetectorLike, type TurnEvent } from '../../src/engine/call-session';
import type { AgentProfile } from '../../src/domain/agents';
import type { TurnInput } from '../../src/domain/calls';
import type { UsageRecord } from '../../src/domain/usage';
import type { CallControl, CallStore } from '../../src/domain/ports';
import type { ChatRequest, LlmProvider, Passage } from '../../src/providers/types';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import { FakeLlm } from '../../src/providers/llm/fake';
import type { Retriever } from '../../src/engine/conversation';
import { FakeTwilioPlayer } from './twilio-player';

/**
 * A CallSession with scripted VAD events, fake providers, an in-memory store and a fake Twilio player, for tests on
 * Jest's modern fake timers (`jest.useFakeTimers()`): `until()` advances fake time until a condition holds, so no test
 * depends on how busy the machine is.
 */

export const agent: AgentProfile = {
  id: 'support',
  systemPrompt: 'You are a helpful support agent.',
  firstMessage: 'Hello, thanks for calling.',
  defaultLanguage: 'en',
  languages: ['en', 'es'],
  voices: { en: 'en-us' },
  intents: ['hours', 'refund'],
  handoffNumber: '+15005550006',
  dtmfMenu: { '0': 'transfer', '9': 'end_call' },
};

/** A detector whose events the test injects; audio pushed in is ignored. `failNext` makes the next push throw. */
export class ScriptedDetector implements TurnDetectorLike {
  private queued: TurnEvent[] = [];
  failures = 0;
  emit(...events: TurnEvent[]) {
    this.queued.push(...events);
  }
  async push(): Promise<TurnEvent[]> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('ort run failed: scripted');
    }
    const out = this.queued;
    this.queued = [];
    return out;
  }
  flush() {
    const out = this.queued;
    this.queued = [];
    return out;
  }
}

/** What the session wrote, in order; `writes` counts every call made to the store (with the fake time it was made at). */
export function memoryStore() {
  const turns: TurnInput[] = [];
  const events: Array<{ type: string; payload?: Record<string, unknown> }> = [];
  const finished: Array<{ language: string | null; intent: string | null }> = [];
  const transfers: unknown[] = [];
  const endReasons: string[] = [];
  const usage: UsageRecord[] = [];
  const writes: number[] = [];
  /** Set to make writes fail (a database outage); they throw ECONNREFUSED like pg does. */
  const outage = { down: false };
  const write = <T>(fn: () => T): Promise<T> => {
    writes.push(performance.now());
    if (outage.down) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    return Promise.resolve(fn());
  };
  const store: CallStore = {
    addTurn: (_sid, t) => write(() => turns.push({ ...t })),
    addEvent: (_sid, type, payload) => write(() => void events.push({ type, payload })),
    finish: (_sid, f) => write(() => void finished.push(f)),
    setTransfer: (_sid, t) => write(() => void transfers.push(t)),
    setEndReason: (_sid, r) => write(() => void endReasons.push(r)),
    addUsage: (_sid, records) => write(() => void usage.push(...records)),
  };
  return { store, turns, events, finished, transfers, endReasons, usage, writes, outage };
}

/** Records call-control requests (the Twilio REST wire is tested in test/unit/telephony/call-control.test.ts). */
export function recordingControl() {
  const actions: Array<{ type: 'transfer' | 'hangup'; callSid: string; target?: string }> = [];
  const control: CallControl = {
    transfer: async (callSid, target) => void actions.push({ type: 'transfer', callSid, target }),
    hangup: async (callSid) => void actions.push({ type: 'hangup', callSid }),
  };
  return { control, actions };
}

/** An utterance event from `startMs` to `endMs` (stream time), endpointed 800 ms later. */
export const utterance = (startMs: number, endMs: number): TurnEvent => ({
  type: 'utterance',
  audio: { samples: new Int16Array(((endMs - startMs) * 8) | 0), sampleRate: 8000 },
  audioStartMs: startMs,
  startMs,
  endMs,
  endpointedAtMs: endMs + 800,
  reason: 'silence',
  speechMs: endMs - startMs,
});

/** Advances fake time in `stepMs` steps until `cond()` holds; throws after `ms` of fake time. */
export async function until(cond: () => boolean, ms = 10_000, stepMs = 5): Promise<void> {
  for (let t = 0; !cond(); t += stepMs) {
    if (t > ms) throw new Error(`timed out after ${ms} ms of fake time`);
    await jest.advanceTimersByTimeAsync(stepMs);
  }
}

/** Advances fake time by `ms`. */
export const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

/** Ends the session, advancing fake time until `end()` resolves. */
export async function endCall(session: CallSession, reason = 'stop'): Promise<void> {
  let done = false;
  const p = session.end(reason).then(() => void (done = true));
  await until(() => done, 30_000);
  await p;
}

export interface SetupOptions extends Partial<Omit<CallSessionDeps, 'turnDetector' | 'store' | 'transport' | 'logger' | 'onEnded' | 'retriever'>> {
  retrieve?: Retriever['retrieve'];
  /** Playback speed of the fake Twilio player (1 = real time). Default 20. */
  speed?: number;
  /** The Twilio side never echoes marks (a broken peer). */
  noMarks?: boolean;
}

const cleanups: Array<() => void> = [];
/** Call from afterEach. */
export function cleanupSessions(): void {
  cleanups.splice(0).forEach((f) => f());
}

export function setup(o: SetupOptions = {}) {
  const detector = new ScriptedDetector();
  const mem = memoryStore();
  const player = new FakeTwilioPlayer(o.speed ?? 20);
  const ctl = recordingControl();
  const ended: Array<{ callSid: string; finishedBefore: boolean }> = [];
  const llmRequests: ChatRequest[] = [];
  const defaultLlm = new FakeLlm({ respond: (req) => (llmRequests.push(req), { text: 'We are open nine to five. Anything else?', intent: { intent: 'hours', confidence: 0.9 } }) });
  const defaultRetrieve: Retriever['retrieve'] = async (): Promise<Passage[]> => [{ documentId: 'd1', title: 'Hours', text: 'We are open 9 to 5.', score: 0.8 }];
  const { retrieve, speed: _s, noMarks, ...deps } = o;
  const session = new CallSession({
    callSid: 'CAtest',
    streamSid: 'MZtest',
    agent,
    stt: new FakeStt({ transcripts: ['When are you open on Saturday?'] }),
    tts: new FakeTts({ firstByteMs: 5 }),
    llm: defaultLlm as LlmProvider,
    callControl: ctl.control,
    ...deps,
    limits: { silenceRepromptMs: 0, ...o.limits },
    transport: player,
    retriever: { retrieve: retrieve ?? defaultRetrieve },
    turnDetector: detector,
    store: mem.store,
    onEnded: async (callSid) => void ended.push({ callSid, finishedBefore: mem.finished.length === 1 }),
    logger: pino({ level: 'silent' }),
  });
  player.attach((name) => (noMarks ? undefined : session.onMark(name)));
  cleanups.push(() => player.close());
  let fedMs = 0;
  /** Returns `events` from the VAD with the next 20 ms of caller audio. */
  const feed = (...events: TurnEvent[]) => {
    detector.emit(...events);
    session.onMedia(new Uint8Array(160).fill(0xff));
    fedMs += 20;
  };
  /** Sends caller audio up to stream time `ms`, then `events` with its last 20 ms (so the session maps stream time to now). */
  const feedAt = (ms: number, ...events: TurnEvent[]) => {
    const pad = Math.max(0, Math.round((ms - fedMs) * 8) - 160);
    if (pad) session.onMedia(new Uint8Array(pad).fill(0xff));
    fedMs += pad / 8;
    feed(...events);
  };
  return { session, detector, mem, out: player.out, ended, llmRequests, feed, feedAt, actions: ctl.actions, player };
}

export const marks = (out: Array<{ kind: string; name?: string }>) => out.filter((o) => o.kind === 'mark').map((o) => o.name);
