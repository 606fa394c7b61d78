import pino from 'pino';
import { CallSession, type CallStore, type TurnDetectorLike, type TurnEvent } from '../../../src/engine/call-session';
import type { AgentProfile } from '../../../src/engine/conversation';
import type { MediaTransport } from '../../../src/engine/playout';
import type { TurnInput } from '../../../src/db/calls';
import type { ChatRequest, LlmProvider, Passage } from '../../../src/providers/types';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';

const agent: AgentProfile = {
  id: 'support',
  systemPrompt: 'You are a helpful support agent.',
  firstMessage: 'Hello, thanks for calling.',
  defaultLanguage: 'en',
  languages: ['en', 'es'],
  voices: { en: 'en-us' },
  intents: ['hours', 'refund'],
};

/** A detector whose events the test injects; audio pushed in is ignored. */
class ScriptedDetector implements TurnDetectorLike {
  private queued: TurnEvent[] = [];
  emit(...events: TurnEvent[]) {
    this.queued.push(...events);
  }
  async push(): Promise<TurnEvent[]> {
    const out = this.queued;
    this.queued = [];
    return out;
  }
  flush() {
    return [];
  }
}

function memoryStore() {
  const turns: TurnInput[] = [];
  const events: Array<{ type: string; payload?: Record<string, unknown> }> = [];
  const finished: Array<{ language: string | null; intent: string | null }> = [];
  const store: CallStore = {
    addTurn: async (_sid, t) => turns.push({ ...t }),
    addEvent: async (_sid, type, payload) => void events.push({ type, payload }),
    finish: async (_sid, f) => void finished.push(f),
  };
  return { store, turns, events, finished };
}

function wire() {
  const out: Array<{ kind: string; bytes?: number; name?: string; at: number }> = [];
  const transport: MediaTransport = {
    sendMedia: (m) => out.push({ kind: 'media', bytes: m.length, at: performance.now() }),
    sendMark: (name) => out.push({ kind: 'mark', name, at: performance.now() }),
    sendClear: () => out.push({ kind: 'clear', at: performance.now() }),
  };
  return { transport, out };
}

const utterance = (startMs: number, endMs: number): TurnEvent => ({
  type: 'utterance',
  audio: { samples: new Int16Array(((endMs - startMs) * 8) | 0), sampleRate: 8000 },
  audioStartMs: startMs,
  startMs,
  endMs,
  endpointedAtMs: endMs + 800,
  reason: 'silence',
});

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function setup(o: { stt?: FakeStt; llm?: LlmProvider; tts?: FakeTts; retrieve?: (q: string) => Passage[]; endDeadlineMs?: number } = {}) {
  const detector = new ScriptedDetector();
  const mem = memoryStore();
  const w = wire();
  const ended: string[] = [];
  const llmRequests: ChatRequest[] = [];
  const llm = o.llm ?? new FakeLlm({ respond: (req) => (llmRequests.push(req), { text: 'We are open nine to five. Anything else?', intent: { intent: 'hours', confidence: 0.9 } }) });
  const session = new CallSession({
    callSid: 'CAtest',
    streamSid: 'MZtest',
    agent,
    transport: w.transport,
    stt: o.stt ?? new FakeStt({ transcripts: ['When are you open on Saturday?'] }),
    tts: o.tts ?? new FakeTts({ firstByteMs: 5 }),
    llm,
    retriever: { retrieve: async (_a, q) => (o.retrieve ? o.retrieve(q) : [{ documentId: 'd1', title: 'Hours', text: 'We are open 9 to 5.', score: 0.8 }]) },
    turnDetector: detector,
    store: mem.store,
    onEnded: async (sid) => {
      expect(mem.finished).toHaveLength(1); // rows are written before post-call work is enqueued
      ended.push(sid);
    },
    logger: pino({ level: 'silent' }),
    endDeadlineMs: o.endDeadlineMs,
  });
  const feed = (...events: TurnEvent[]) => {
    detector.emit(...events);
    session.onMedia(new Uint8Array(160).fill(0xff));
  };
  return { session, detector, mem, w, ended, llmRequests, feed };
}

describe('CallSession with scripted fake providers', () => {
  it('greets first, with audio then a mark', async () => {
    const { session, w, mem } = setup();
    session.start();
    await until(() => w.out.some((o) => o.kind === 'mark'));
    expect(w.out[0].kind).toBe('media');
    expect(w.out.find((o) => o.kind === 'mark')?.name).toBe('turn-1-seg-1');
    await session.end('stop');
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Hello, thanks for calling.', language: 'en', interrupted: false });
  });

  it('answers an utterance: caller turn, retrieval in the LLM request, one mark per sentence, timings', async () => {
    const { session, w, mem, feed, llmRequests, ended } = setup();
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed(utterance(1000, 2500));
    await until(() => w.out.some((o) => o.name === 'turn-2-seg-2'));
    await session.end('stop');

    expect(llmRequests[0].passages[0].title).toBe('Hours');
    expect(llmRequests[0].messages.at(-1)).toEqual({ role: 'user', content: 'When are you open on Saturday?' });
    expect(llmRequests[0].messages[0]).toEqual({ role: 'assistant', content: 'Hello, thanks for calling.' });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[1]).toMatchObject({ text: 'When are you open on Saturday?', language: 'en', startMs: 1000, endMs: 2500, intent: 'hours' });
    const reply = mem.turns[2];
    expect(reply.text).toBe('We are open nine to five. Anything else?');
    expect(reply.timings).toMatchObject({ endpointingMs: 800 });
    for (const k of ['sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs'] as const) expect(typeof reply.timings?.[k]).toBe('number');
    expect(w.out.filter((o) => o.kind === 'mark').map((o) => o.name)).toEqual(['turn-1-seg-1', 'turn-2-seg-1', 'turn-2-seg-2']);
    expect(mem.finished).toEqual([{ language: 'en', intent: 'hours' }]);
    expect(ended).toEqual(['CAtest']);
  });

  it('first agent audio goes out before the LLM has finished the reply', async () => {
    const llm = new FakeLlm({ replies: ['First sentence is short. ' + 'Then a very long tail '.repeat(20)], firstTokenMs: 5, perTokenMs: 15 });
    const { session, w, feed } = setup({ llm });
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    const before = w.out.length;
    const t0 = performance.now();
    feed(utterance(0, 1000));
    await until(() => w.out.some((o) => o.name === 'turn-2-seg-2'), 10_000);
    const firstMedia = w.out.slice(before).find((o) => o.kind === 'media')!;
    const lastMark = w.out.find((o) => o.name === 'turn-2-seg-2')!;
    // ~100 tokens at 15 ms: the LLM needs > 1 s; the first sentence is spoken long before that.
    expect(firstMedia.at - t0).toBeLessThan(lastMark.at - t0 - 500);
    await session.end('stop');
  });

  it('barge-in while the agent is talking sends clear, aborts the turn and marks it interrupted', async () => {
    const tts = new FakeTts({ firstByteMs: 1, interChunkMs: 20 });
    const llm = new FakeLlm({ replies: ['One. Two. Three. Four. Five. Six. Seven. Eight.'], perTokenMs: 10 });
    const { session, w, mem, feed } = setup({ tts, llm });
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed(utterance(0, 1000));
    await until(() => w.out.some((o) => o.name === 'turn-2-seg-1'));
    feed({ type: 'speech_start', atMs: 3000, speechStartMs: 2750 });
    await until(() => w.out.some((o) => o.kind === 'clear'));
    await session.end('stop');
    const agentReply = mem.turns.filter((t) => t.role === 'agent')[1];
    expect(agentReply.interrupted).toBe(true);
    expect(agentReply.text.split(' ').length).toBeLessThan(8);
    expect(mem.events.some((e) => e.type === 'barge_in')).toBe(true);
    const clearAt = w.out.findIndex((o) => o.kind === 'clear');
    expect(w.out.slice(clearAt + 1).filter((o) => o.kind === 'media')).toHaveLength(0);
  });

  it('caller speech while the agent is silent does not send clear', async () => {
    const { session, w, feed } = setup();
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed({ type: 'speech_start', atMs: 500, speechStartMs: 250 });
    await new Promise((r) => setTimeout(r, 50));
    expect(w.out.some((o) => o.kind === 'clear')).toBe(false);
    await session.end('stop');
  });

  it('a failing STT is recorded and the next utterance is still answered', async () => {
    const stt = new FakeStt({ respond: (_a, i) => (i === 1 ? 'Do you do refunds?' : 'unexpected'), failWith: (i) => (i === 0 ? new Error('boom 503') : undefined) });
    const { session, w, mem, feed } = setup({ stt });
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed(utterance(0, 1000));
    await until(() => mem.events.some((e) => e.type === 'provider.error'));
    feed(utterance(2000, 3000));
    await until(() => w.out.some((o) => o.name?.startsWith('turn-2-')));
    await session.end('stop');
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload?.message).toMatch(/boom/);
    expect(mem.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['Do you do refunds?']);
  });

  it('a failing LLM gets a spoken apology instead of silence, and the error is recorded', async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const { session, w, mem, feed } = setup({ llm });
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed(utterance(0, 1000));
    await until(() => w.out.filter((o) => o.kind === 'mark').length === 2);
    await session.end('stop');
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload).toMatchObject({ stage: 'reply', message: expect.stringMatching(/llm 500/) });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[2].text).toMatch(/^Sorry, I'm having trouble/);
  });

  it('DTMF digits are stored masked, menu keys as they are', async () => {
    const { session, mem } = setup();
    session.start();
    for (const d of ['4', '0', '#', '7']) session.onDtmf(d);
    await session.end('stop');
    expect(mem.events.filter((e) => e.type === 'dtmf').map((e) => e.payload?.digit)).toEqual(['X', '0', '#', 'X']);
  });

  it('end() finishes the call even when a provider ignores its AbortSignal', async () => {
    const stuck: LlmProvider = { id: 'stuck', chat: async function* () { await new Promise(() => undefined); } };
    const { session, w, mem, feed, ended } = setup({ llm: stuck, endDeadlineMs: 200 });
    session.start();
    await until(() => w.out.some((o) => o.name === 'turn-1-seg-1'));
    session.onMark('turn-1-seg-1');
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 1 && w.out.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await session.end('stop');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(mem.finished).toHaveLength(1);
    expect(ended).toEqual(['CAtest']);
  });

  it('end() is idempotent and onEnded runs once after the rows are written', async () => {
    const { session, ended, mem } = setup();
    session.start();
    await Promise.all([session.end('stop'), session.end('socket closed')]);
    await session.end('again');
    expect(ended).toEqual(['CAtest']);
    expect(mem.finished).toHaveLength(1);
    expect(mem.events.filter((e) => e.type === 'stream.ended')).toHaveLength(1);
  });
});
