import pino from 'pino';
import { CallSession, type CallStore, type TurnDetectorLike, type TurnEvent } from '../../../src/engine/call-session';
import type { AgentProfile } from '../../../src/engine/conversation';
import type { CallControl } from '../../../src/telephony/call-control';
import { FakeTwilioPlayer } from '../../helpers/twilio-player';
import type { TurnInput } from '../../../src/domain/calls';
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
  handoffNumber: '+15005550006',
  dtmfMenu: { '0': 'transfer', '9': 'end_call' },
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
  const transfers: unknown[] = [];
  const endReasons: string[] = [];
  const store: CallStore = {
    addTurn: async (_sid, t) => turns.push({ ...t }),
    addEvent: async (_sid, type, payload) => void events.push({ type, payload }),
    finish: async (_sid, f) => void finished.push(f),
    setTransfer: async (_sid, t) => void transfers.push(t),
    setEndReason: async (_sid, r) => void endReasons.push(r),
  };
  return { store, turns, events, finished, transfers, endReasons };
}

/** Records call-control requests (the Twilio REST wire is tested in test/unit/telephony/call-control.test.ts). */
function recordingControl() {
  const actions: Array<{ type: 'transfer' | 'hangup'; callSid: string; target?: string }> = [];
  const control: CallControl = {
    transfer: async (callSid, target) => void actions.push({ type: 'transfer', callSid, target }),
    hangup: async (callSid) => void actions.push({ type: 'hangup', callSid }),
  };
  return { control, actions };
}

const utterance = (startMs: number, endMs: number): TurnEvent => ({
  type: 'utterance',
  audio: { samples: new Int16Array(((endMs - startMs) * 8) | 0), sampleRate: 8000 },
  audioStartMs: startMs,
  startMs,
  endMs,
  endpointedAtMs: endMs + 800,
  reason: 'silence',
  speechMs: endMs - startMs,
});

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

interface SetupOptions {
  stt?: FakeStt;
  llm?: LlmProvider;
  tts?: FakeTts;
  retrieve?: (q: string) => Passage[];
  endDeadlineMs?: number;
  /** Playback speed of the fake Twilio player (1 = real time). Default 20. */
  speed?: number;
  limits?: ConstructorParameters<typeof CallSession>[0]['limits'];
  tools?: ConstructorParameters<typeof CallSession>[0]['tools'];
  apology?: { get(language: string): Uint8Array; text(language: string): string };
  filler?: { get(language: string): Uint8Array; text(language: string): string };
}

function setup(o: SetupOptions = {}) {
  const detector = new ScriptedDetector();
  const mem = memoryStore();
  const player = new FakeTwilioPlayer(o.speed ?? 20);
  const w = { transport: player, out: player.out };
  const ctl = recordingControl();
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
    callControl: ctl.control,
    limits: { silenceRepromptMs: 0, ...o.limits },
    tools: o.tools,
    apology: o.apology,
    filler: o.filler,
  });
  player.attach((name) => session.onMark(name));
  afterEachCleanup.push(() => player.close());
  const feed = (...events: TurnEvent[]) => {
    detector.emit(...events);
    session.onMedia(new Uint8Array(160).fill(0xff));
  };
  return { session, detector, mem, w, ended, llmRequests, feed, actions: ctl.actions, player };
}

const afterEachCleanup: Array<() => void> = [];
afterEach(() => afterEachCleanup.splice(0).forEach((f) => f()));
const marks = (out: Array<{ kind: string; name?: string }>) => out.filter((o) => o.kind === 'mark').map((o) => o.name);

describe('CallSession with scripted fake providers', () => {
  it('greets first, with audio then a mark, and stores the greeting once it has played', async () => {
    const { session, w, mem } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    expect(w.out[0].kind).toBe('media');
    expect(marks(w.out)).toEqual(['turn-1-seg-1']);
    await session.end('stop');
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Hello, thanks for calling.', language: 'en', interrupted: false });
  });

  it('answers an utterance: caller turn, retrieval in the LLM request, one mark per sentence, timings', async () => {
    const { session, w, mem, feed, llmRequests, ended } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => mem.turns.length === 3);
    await session.end('stop');

    expect(llmRequests[0].passages[0].title).toBe('Hours');
    expect(llmRequests[0].messages.at(-1)).toEqual({ role: 'user', content: 'When are you open on Saturday?' });
    expect(llmRequests[0].messages[0]).toEqual({ role: 'assistant', content: 'Hello, thanks for calling.' });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[1]).toMatchObject({ text: 'When are you open on Saturday?', language: 'en', startMs: 1000, endMs: 2500, intent: 'hours' });
    const reply = mem.turns[2];
    expect(reply).toMatchObject({ text: 'We are open nine to five. Anything else?', interrupted: false });
    expect(reply.timings).toMatchObject({ endpointingMs: 800 });
    for (const k of ['sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs', 'turnOverheadMs'] as const) expect(typeof reply.timings?.[k]).toBe('number');
    expect(marks(w.out)).toEqual(['turn-1-seg-1', 'turn-2-seg-1', 'turn-2-seg-2']);
    expect(mem.finished).toEqual([{ language: 'en', intent: 'hours' }]);
    expect(ended).toEqual(['CAtest']);
  });

  it('first agent audio goes out before the LLM has finished the reply', async () => {
    const llm = new FakeLlm({ replies: ['First sentence is short. ' + 'Then a very long tail '.repeat(20)], firstTokenMs: 5, perTokenMs: 15 });
    const { session, w, feed, mem } = setup({ llm });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = w.out.length;
    feed(utterance(0, 1000));
    await until(() => marks(w.out).includes('turn-2-seg-2'), 10_000);
    const firstMedia = w.out.slice(before).find((o) => o.kind === 'media')!;
    const lastMark = w.out.find((o) => o.name === 'turn-2-seg-2')!;
    // ~100 tokens at 15 ms: the LLM needs > 1 s; the first sentence is on the wire long before that.
    expect(lastMark.at - firstMedia.at).toBeGreaterThan(1000);
    await session.end('stop');
  });

  it('barge-in: clear at speech onset, turn aborted, only the heard text stored and sent to the next LLM request', async () => {
    const tts = new FakeTts({ msPerChar: 40 });
    const llm = new FakeLlm({ replies: ['One two three. Four five six seven. Eight nine ten eleven twelve.', 'Sure.'] });
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Wait, stop.') });
    const { session, w, mem, feed, llmRequests } = setup({ tts, llm, stt, speed: 1 });
    const requests: ChatRequest[] = llm.calls;
    session.start();
    await until(() => mem.turns.length === 1, 5000);
    feed(utterance(0, 1000));
    // Let the first sentence (15 chars × 40 ms = 600 ms) play, and ~200 ms of the second (24 chars = 960 ms).
    await until(() => w.out.some((o) => o.name === 'turn-2-seg-1'));
    const seg1Mark = w.out.find((o) => o.name === 'turn-2-seg-1')!;
    const firstMedia = w.out.find((o, i) => i > w.out.indexOf(w.out.find((x) => x.name === 'turn-1-seg-1')!) && o.kind === 'media')!;
    await new Promise((r) => setTimeout(r, Math.max(0, firstMedia.at + 600 + 450 - performance.now())));
    const onsetAt = performance.now();
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => w.out.some((o) => o.kind === 'clear'));
    const clear = w.out.find((o) => o.kind === 'clear')!;
    expect(clear.at - onsetAt).toBeLessThan(100);
    feed({ type: 'barge_in', atMs: 5400, speechStartMs: 4968 }, utterance(4968, 6000));
    await until(() => mem.turns.length === 5, 5000);
    await session.end('stop');

    const interrupted = mem.turns[2];
    expect(interrupted.role).toBe('agent');
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.text.startsWith('One two three.')).toBe(true);
    expect(interrupted.text).not.toContain('Eight');
    expect(interrupted.text.length).toBeLessThan('One two three. Four five six seven.'.length);
    expect(seg1Mark).toBeDefined();
    expect(mem.events.some((e) => e.type === 'barge_in')).toBe(true);
    // No audio of the aborted turn after the clear.
    const clearIdx = w.out.indexOf(clear);
    const nextTurnMedia = w.out.findIndex((o, i) => i > clearIdx && o.name?.startsWith('turn-3'));
    expect(w.out.slice(clearIdx + 1, nextTurnMedia).filter((o) => o.kind === 'media').length).toBeLessThan(
      w.out.slice(clearIdx + 1).filter((o) => o.kind === 'media').length + 1,
    );
    // The next LLM request sees only what the caller heard.
    const history = requests[1].messages.map((m) => m.content);
    expect(history).toContain(interrupted.text);
    expect(history.join(' ')).not.toContain('Eight nine ten');
    expect(llmRequests).toHaveLength(0); // scripted replies, no respond() calls
  });

  it('a backchannel pauses the agent briefly, then it resumes and finishes; the "mm-hm" is not answered', async () => {
    const tts = new FakeTts({ msPerChar: 30 });
    const llm = new FakeLlm({ replies: ['Your order shipped yesterday. It should arrive on Friday.'] });
    const { session, w, mem, feed } = setup({ tts, llm, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1, 5000);
    feed(utterance(0, 1000));
    await until(() => w.out.some((o) => o.name === 'turn-2-seg-1'));
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => w.out.some((o) => o.kind === 'clear'));
    const clearIdx = w.out.findIndex((o) => o.kind === 'clear');
    feed({ type: 'backchannel', atMs: 5600, speechStartMs: 4968, speechMs: 250 }, utterance(4968, 5250));
    await until(() => mem.turns.length === 3, 8000);
    await new Promise((r) => setTimeout(r, 50));
    await session.end('stop');
    expect(w.out.slice(clearIdx + 1).some((o) => o.kind === 'media')).toBe(true); // re-sent from the cut point
    expect(mem.turns[2]).toMatchObject({ role: 'agent', text: 'Your order shipped yesterday. It should arrive on Friday.', interrupted: false });
    expect(mem.turns.filter((t) => t.role === 'caller')).toHaveLength(1);
    expect(llm.calls).toHaveLength(1);
    expect(mem.events.some((e) => e.type === 'backchannel')).toBe(true);
    expect(mem.events.some((e) => e.type === 'barge_in')).toBe(false);
  });

  it('caller speech while the agent is silent does not send clear', async () => {
    const { session, w, feed, mem } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed({ type: 'speech_onset', atMs: 500, speechStartMs: 468 }, { type: 'barge_in', atMs: 900, speechStartMs: 468 });
    await new Promise((r) => setTimeout(r, 50));
    expect(w.out.some((o) => o.kind === 'clear')).toBe(false);
    await session.end('stop');
  });

  it('a failing STT is recorded and the next utterance is still answered', async () => {
    const stt = new FakeStt({ respond: (_a, i) => (i === 1 ? 'Do you do refunds?' : 'unexpected'), failWith: (i) => (i === 0 ? new Error('boom 503') : undefined) });
    const { session, w, mem, feed } = setup({ stt });
    session.start();
    await until(() => mem.turns.length === 1);
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
    const { session, mem, feed } = setup({ llm });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    await session.end('stop');
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload).toMatchObject({ stage: 'reply', message: expect.stringMatching(/llm 500/) });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[2].text).toMatch(/^Sorry, I'm having trouble/);
  });

  it('when the LLM and the TTS both fail, the cached apology audio is played byte for byte', async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const tts = new FakeTts({ failWith: (i) => (i > 0 ? new Error('tts 500') : undefined) });
    const cached = Uint8Array.from({ length: 800 }, (_, i) => (i * 7) & 0xff);
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Agent, please.') });
    const apology = { get: () => cached, text: () => "Sorry, I'm having trouble right now. Press 0 or say 'agent' to reach a person." };
    const { session, mem, feed, w, actions } = setup({ llm, tts, stt, apology });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = w.out.length;
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    await session.end('stop');
    const sent = w.out.slice(before).filter((o) => o.kind === 'media').reduce((a, o) => a + (o.bytes ?? 0), 0);
    expect(sent).toBe(800);
    expect(mem.turns[2].text).toMatch(/^Sorry/);
  });

  it("after the outage apology, a caller saying 'agent' is transferred without any provider", async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Agent, please.') });
    const apology = { get: () => new Uint8Array(400), text: () => "Sorry, I'm having trouble right now. Press 0 or say 'agent' to reach a person." };
    const { session, mem, feed, actions } = setup({ llm, stt, apology });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    feed(utterance(3000, 3800));
    await until(() => actions.length === 1);
    await session.end('stop');
    expect(actions[0]).toMatchObject({ type: 'transfer', target: '+15005550006' });
    expect(mem.turns[3]).toMatchObject({ role: 'caller', text: 'Agent, please.', intent: 'human_handoff' });
    expect(llm.calls).toHaveLength(1);
  });

  it('dead air: a slow TTS gets the cached filler first, then the reply, in one utterance', async () => {
    const tts = new FakeTts({ firstByteMs: 400 });
    const fillerBytes = new Uint8Array(240).fill(0x55);
    const filler = { get: () => fillerBytes, text: () => 'One moment, please.' };
    const { session, mem, feed, w } = setup({ tts, filler, limits: { deadAirMs: 150 } });
    session.start();
    await until(() => mem.turns.length === 1, 5000);
    const before = w.out.length;
    feed(utterance(0, 20)); // speech ended with the audio fed so far: the dead-air clock starts now
    await until(() => mem.turns.length === 3, 5000);
    await session.end('stop');
    const firstFrame = w.out.slice(before).find((o) => o.kind === 'media')!;
    expect(firstFrame.bytes).toBe(160); // the filler's first 20 ms frame
    expect(mem.turns[2].text).toBe('We are open nine to five. Anything else?');
    expect(mem.turns[2].timings).toMatchObject({ fillerPlayed: true });
  });

  it('dead air: a slow STT gets the filler played on its own before the reply', async () => {
    const stt = new FakeStt({ transcripts: ['When are you open on Saturday?'], latencyMs: 400 });
    const filler = { get: () => new Uint8Array(320), text: () => 'One moment, please.' };
    const { session, mem, feed, w } = setup({ stt, filler, limits: { deadAirMs: 150 } });
    session.start();
    await until(() => mem.turns.length === 1, 5000);
    feed(utterance(0, 20)); // speech ended with the audio fed so far: the dead-air clock starts now
    await until(() => mem.turns.length === 3, 5000);
    await session.end('stop');
    expect(marks(w.out)).toContain('turn-2-filler');
    expect(mem.turns[2].text).toBe('One moment, please. We are open nine to five. Anything else?');
  });

  it('a caller switching to Spanish gets Spanish (prompt language, TTS language, STT hint); German gets told in the default language', async () => {
    const stt = new FakeStt({
      transcripts: [
        { text: '¿Cuál es el horario de atención del sábado por la mañana?', language: 'es' },
        { text: 'Können Sie mir bitte die Öffnungszeiten am Samstag sagen?', language: 'de' },
      ],
    });
    const llm = new FakeLlm({ replies: ['Abrimos a las nueve.', 'We open at nine.'] });
    const tts = new FakeTts();
    const { session, mem, feed } = setup({ stt, llm, tts });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => mem.turns.length === 3);
    feed(utterance(5000, 6500));
    await until(() => mem.turns.length === 5);
    await session.end('stop');
    expect(mem.turns[1]).toMatchObject({ role: 'caller', language: 'es' });
    expect(mem.turns[2]).toMatchObject({ role: 'agent', text: 'Abrimos a las nueve.', language: 'es' });
    expect(llm.calls[0].language).toBe('es');
    expect(tts.calls.find((c) => c.text === 'Abrimos a las nueve.')?.language).toBe('es');
    expect(stt.calls[1].languageHint).toBe('es'); // the next utterance is transcribed with the call's language
    // German is not one of this agent's languages (en, es): the turn is stored as de, the answer says so.
    expect(mem.turns[3]).toMatchObject({ role: 'caller', language: 'de' });
    expect(mem.turns[4].text.startsWith("I'm sorry, I can only help you in English.")).toBe(true);
  });

  it('dead air then an LLM failure: the filler is not mistaken for the reply, the cached apology still plays', async () => {
    const llm = new FakeLlm({ replies: ['never'], firstTokenMs: 400, failWith: () => new Error('llm 500') });
    const filler = { get: () => new Uint8Array(320), text: () => 'One moment, please.' };
    const apology = { get: () => new Uint8Array(480), text: () => "Sorry, I'm having trouble right now. Press 0 or say 'agent' to reach a person." };
    const { session, mem, feed, w } = setup({ llm, filler, apology, limits: { deadAirMs: 150 } });
    session.start();
    await until(() => mem.turns.length === 1, 5000);
    feed(utterance(0, 20)); // speech ended with the audio fed so far: the dead-air clock starts now
    await until(() => mem.turns.length === 3, 5000);
    await session.end('stop');
    expect(marks(w.out)).toEqual(expect.arrayContaining(['turn-2-filler', 'turn-3-apology']));
    expect(mem.turns[2].text).toMatch(/^Sorry, I'm having trouble/);
  });

  it('DTMF digits are stored masked, menu keys as they are', async () => {
    const { session, mem } = setup();
    session.start();
    for (const d of ['4', '#', '7']) session.onDtmf(d);
    await session.end('stop');
    expect(mem.events.filter((e) => e.type === 'dtmf').map((e) => e.payload?.digit)).toEqual(['X', '#', 'X']);
  });

  it('DTMF 0 interrupts the agent, says the handoff line, then transfers to the handoff number with a summary', async () => {
    const { session, mem, feed, actions, w } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => mem.turns.length === 3);
    session.onDtmf('0');
    await until(() => actions.length === 1);
    expect(actions[0]).toEqual({ type: 'transfer', callSid: 'CAtest', target: '+15005550006' });
    await until(() => mem.transfers.length === 1);
    await session.end('stop');
    expect(mem.transfers[0]).toMatchObject({ target: '+15005550006', reason: 'dtmf', summary: expect.stringContaining('Caller: When are you open on Saturday?') });
    expect(mem.turns.at(-1)?.text).toMatch(/transferring you/);
    expect(w.out.filter((o) => o.kind === 'mark').length).toBeGreaterThanOrEqual(4);
  });

  it('an LLM transfer_to_human tool call transfers after the reply is spoken', async () => {
    const llm = new FakeLlm({ replies: [{ text: 'Let me connect you with a colleague.', toolCalls: [{ id: 'call_1', name: 'transfer_to_human', arguments: '{"reason":"wants a person"}' }] }] });
    const tools = [{ name: 'transfer_to_human', description: 'Transfer', parameters: { type: 'object', properties: { reason: { type: 'string' } } } }];
    const { session, mem, feed, actions } = setup({ llm, tools });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => actions.length === 1);
    await session.end('stop');
    expect(actions[0]).toMatchObject({ type: 'transfer', target: '+15005550006' });
    expect(mem.transfers[0]).toMatchObject({ reason: 'wants a person' });
    expect(mem.turns.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['Hello, thanks for calling.', 'Let me connect you with a colleague.']);
    expect(llm.calls[0].tools?.map((t) => t.name)).toEqual(['transfer_to_human']);
  });

  it('silence: reprompts N times, then says goodbye and hangs up', async () => {
    const { session, mem, actions } = setup({ limits: { silenceRepromptMs: 60, maxReprompts: 2 } });
    session.start();
    await until(() => actions.length === 1, 8000);
    await session.end('stop');
    expect(actions[0]).toEqual({ type: 'hangup', callSid: 'CAtest' });
    expect(mem.endReasons).toEqual(['silence']);
    const agentTexts = mem.turns.map((t) => t.text);
    expect(agentTexts.filter((t) => /still there/.test(t))).toHaveLength(2);
    expect(agentTexts.at(-1)).toMatch(/end the call/);
  });

  it('the call time limit interrupts the agent, says goodbye and hangs up', async () => {
    const tts = new FakeTts({ msPerChar: 200 });
    const { session, mem, actions } = setup({ tts, speed: 20, limits: { maxCallDurationMs: 100 } });
    session.start();
    await until(() => actions.length === 1, 8000);
    await session.end('stop');
    expect(mem.endReasons).toEqual(['max_duration']);
    // The greeting was cut after ~100 ms: at most its first words are stored, marked interrupted.
    expect(mem.turns.filter((t) => t.text === 'Hello, thanks for calling.')).toHaveLength(0);
    expect(mem.turns.slice(0, -1).every((t) => t.interrupted)).toBe(true);
    expect(mem.turns.at(-1)?.text).toMatch(/time limit/);
  });

  it('end() finishes the call even when a provider ignores its AbortSignal', async () => {
    const stuck: LlmProvider = { id: 'stuck', chat: async function* () { await new Promise(() => undefined); } };
    const { session, mem, feed, ended } = setup({ llm: stuck, endDeadlineMs: 200 });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
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
