import type { ChatRequest, LlmDelta, LlmProvider } from '../../../src/providers/types';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { APOLOGY, OUTAGE_APOLOGY } from '../../../src/engine/phrases';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import { advance, cleanupSessions, endCall, marks, setup, until, utterance } from '../../helpers/session-harness';

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const cached = (bytes: Uint8Array, text: string) => ({ get: () => bytes, text: () => text });

/** Wraps an LLM and notes, per request, the text it had streamed when the request's signal aborted (null: never). */
class CutWatchingLlm implements LlmProvider {
  readonly id = 'cut-watching.llm';
  readonly atCut: Array<string | null> = [];
  constructor(private readonly inner: FakeLlm) {}
  get calls() {
    return this.inner.calls;
  }
  async *chat(req: ChatRequest, signal: AbortSignal): AsyncGenerator<LlmDelta> {
    const i = this.atCut.push(null) - 1;
    let text = '';
    signal.addEventListener('abort', () => (this.atCut[i] = text), { once: true });
    for await (const d of this.inner.chat(req, signal)) {
      if (d.type === 'text') text += d.text;
      yield d;
    }
  }
}

describe('CallSession with scripted fake providers (fake time)', () => {
  it('greets first, with audio then a mark, and stores the greeting once it has played', async () => {
    const { session, out, mem, ended } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    expect(out[0].kind).toBe('media');
    expect(marks(out)).toEqual(['turn-1-seg-1']);
    await endCall(session);
    expect(mem.turns[0]).toMatchObject({ role: 'agent', text: 'Hello, thanks for calling.', language: 'en', interrupted: false });
    expect(ended).toEqual([{ callSid: 'CAtest', finishedBefore: true }]); // rows are written before post-call work is enqueued
  });

  it('answers an utterance: caller turn, retrieval in the LLM request, one mark per sentence, timings', async () => {
    const { session, out, mem, feed, llmRequests, ended } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(llmRequests[0].passages[0].title).toBe('Hours');
    expect(llmRequests[0].messages.at(-1)).toEqual({ role: 'user', content: 'When are you open on Saturday?' });
    expect(llmRequests[0].messages[0]).toEqual({ role: 'assistant', content: 'Hello, thanks for calling.' });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[1]).toMatchObject({ text: 'When are you open on Saturday?', language: 'en', startMs: 1000, endMs: 2500, intent: 'hours' });
    const reply = mem.turns[2];
    expect(reply).toMatchObject({ text: 'We are open nine to five. Anything else?', interrupted: false });
    expect(reply.timings).toMatchObject({ endpointingMs: 800 });
    for (const k of ['sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs', 'turnOverheadMs'] as const) expect(reply.timings?.[k]).toEqual(expect.any(Number));
    expect(reply.timings?.ttsFirstByteMs).toBe(5); // the fake TTS's first-byte latency, measured on the fake clock
    expect(marks(out)).toEqual(['turn-1-seg-1', 'turn-2-seg-1', 'turn-2-seg-2']);
    expect(mem.finished).toEqual([{ language: 'en', intent: 'hours' }]);
    expect(ended).toEqual([{ callSid: 'CAtest', finishedBefore: true }]);
  });

  it('first agent audio goes out before the LLM has finished the reply', async () => {
    const llm = new FakeLlm({ replies: ['First sentence is short. ' + 'Then a very long tail '.repeat(20)], firstTokenMs: 5, perTokenMs: 15 });
    const { session, out, feed, mem } = setup({ llm });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    await until(() => marks(out).includes('turn-2-seg-2'), 10_000);
    const firstMedia = out.slice(before).find((o) => o.kind === 'media')!;
    const lastMark = out.find((o) => o.name === 'turn-2-seg-2')!;
    // 104 words at 15 ms: the LLM needs > 1.5 s; the first sentence is on the wire 4 words (~50 ms) after its start.
    expect(lastMark.at - firstMedia.at).toBeGreaterThanOrEqual(1400);
    await endCall(session);
  });

  it('barge-in: clear at speech onset, turn aborted, only the heard text stored and sent to the next LLM request', async () => {
    const tts = new FakeTts({ msPerChar: 40 });
    const llm = new FakeLlm({ replies: ['One two three. Four five six seven. Eight nine ten eleven twelve.', 'Sure.'] });
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Wait, stop.') });
    const { session, out, mem, feed } = setup({ tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    // The first sentence (14 chars × 40 ms = 560 ms) plays, then 400 ms of the second.
    await until(() => out.slice(before).some((o) => o.kind === 'media'));
    const replyStart = out.slice(before).find((o) => o.kind === 'media')!.at;
    await advance(replyStart + 560 + 400 - performance.now());
    const onsetAt = performance.now();
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => out.some((o) => o.kind === 'clear'));
    const clear = out.find((o) => o.kind === 'clear')!;
    expect(clear.at - onsetAt).toBeLessThan(20);
    feed({ type: 'barge_in', atMs: 5400, speechStartMs: 4968 }, utterance(4968, 6000));
    await until(() => mem.turns.length === 5);
    await endCall(session);

    const cut = mem.turns[2];
    expect(cut).toMatchObject({ role: 'agent', interrupted: true });
    // 400 ms of "Four five six seven." (20 chars, 800 ms) were heard: half of it, whole words only.
    expect(cut.text).toBe('One two three. Four five');
    // The LLM had written the whole reply (no per-token delay), all of it sent to TTS: the rest is kept as unheard.
    expect(cut.unheardText).toBe('six seven. Eight nine ten eleven twelve.');
    expect(`${cut.text} ${cut.unheardText}`).toBe('One two three. Four five six seven. Eight nine ten eleven twelve.');
    expect(mem.turns.filter((t) => t !== cut).map((t) => t.unheardText ?? null)).toEqual([null, null, null, null]);
    expect(mem.events.filter((e) => e.type === 'barge_in')).toHaveLength(1);
    // No audio of the aborted turn after the clear: the next media belongs to the next reply.
    const clearIdx = out.indexOf(clear);
    const nextReply = out.findIndex((o, i) => i > clearIdx && o.name?.startsWith('turn-3'));
    expect(nextReply).toBeGreaterThan(clearIdx);
    const replyMedia = out.slice(clearIdx + 1, nextReply).filter((o) => o.kind === 'media').length;
    expect(replyMedia * 160).toBe(tts.bytesFor('Sure.')); // exactly the next reply's audio, none of the cut one
    // The next LLM request sees only what the caller heard.
    const history = llm.calls[1].messages.map((m) => m.content);
    expect(history).toContain('One two three. Four five');
    expect(history.join(' ')).not.toContain('six seven');
    expect(mem.turns[3]).toMatchObject({ role: 'caller', text: 'Wait, stop.' });
  });

  it('barge-in while the LLM is still writing: unheard text is what had been generated at the cut, not what came after', async () => {
    const full = 'One two three. Four five six seven. Eight nine ten eleven twelve.';
    const llm = new CutWatchingLlm(new FakeLlm({ replies: [full, 'Sure.'], perTokenMs: 100 }));
    const tts = new FakeTts({ msPerChar: 40 });
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Wait, stop.') });
    const { session, out, mem, feed } = setup({ tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    // The first sentence is out after 3 words (~200 ms of LLM time); 300 ms into its 560 ms of audio the caller cuts in,
    // while the LLM is still writing the second sentence.
    await until(() => out.slice(before).some((o) => o.kind === 'media'));
    const replyStart = out.slice(before).find((o) => o.kind === 'media')!.at;
    await advance(replyStart + 300 - performance.now());
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => out.some((o) => o.kind === 'clear'));
    feed({ type: 'barge_in', atMs: 5400, speechStartMs: 4968 }, utterance(4968, 6000));
    await until(() => mem.turns.length === 5);
    await endCall(session);

    const cut = mem.turns[2];
    expect(cut).toMatchObject({ role: 'agent', interrupted: true, text: 'One two' });
    const generated = llm.atCut[0]!.trim();
    // Cut before the LLM finished: what it had generated then is the heard text followed by the unheard text.
    expect(generated.length).toBeLessThan(full.length);
    expect(full.startsWith(generated)).toBe(true);
    expect(`${cut.text} ${cut.unheardText}`).toBe(generated);
    // Beyond the first sentence (on the playout) it holds the sentence the LLM was still writing (no sentence end yet).
    expect(cut.unheardText).toMatch(/^three\. Four/);
    expect(generated).not.toMatch(/[.!?]$/);
    expect(cut.unheardText).not.toContain('twelve');
    // The next LLM request sees only the heard part.
    const history = llm.calls[1].messages.map((m) => m.content).join(' | ');
    expect(history).toContain('One two');
    expect(history).not.toContain('three. Four');
  });

  it('a backchannel pauses the agent briefly, then it resumes and finishes; the "mm-hm" is kept but not answered', async () => {
    const tts = new FakeTts({ msPerChar: 30 });
    const llm = new FakeLlm({ replies: ['Your order shipped yesterday. It should arrive on Friday.'] });
    const stt = new FakeStt({ transcripts: ['Where is my order?', 'mm-hm'] });
    const { session, out, mem, feed } = setup({ tts, llm, stt, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => out.some((o) => o.name === 'turn-2-seg-1'));
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await until(() => out.some((o) => o.kind === 'clear'));
    const clearIdx = out.findIndex((o) => o.kind === 'clear');
    feed({ type: 'backchannel', atMs: 5600, speechStartMs: 4968, speechMs: 250 }, utterance(4968, 5250));
    await until(() => mem.turns.some((t) => t.role === 'agent' && t.text.startsWith('Your order')));
    await endCall(session);
    expect(out.slice(clearIdx + 1).some((o) => o.kind === 'media')).toBe(true); // re-sent from the cut point
    expect(mem.turns.find((t) => t.text.startsWith('Your order'))).toMatchObject({ text: 'Your order shipped yesterday. It should arrive on Friday.', interrupted: false });
    expect(mem.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['Where is my order?', 'mm-hm']);
    expect(llm.calls).toHaveLength(1);
    expect(mem.events.some((e) => e.type === 'backchannel')).toBe(true);
    expect(mem.events.some((e) => e.type === 'barge_in')).toBe(false);
  });

  it('caller speech while the agent is silent does not send clear', async () => {
    const { session, out, feed, mem } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed({ type: 'speech_onset', atMs: 500, speechStartMs: 468 }, { type: 'barge_in', atMs: 900, speechStartMs: 468 });
    await advance(50);
    expect(out.some((o) => o.kind === 'clear')).toBe(false);
    await endCall(session);
  });

  it('a failing STT is recorded and the next utterance is still answered', async () => {
    const stt = new FakeStt({ respond: (_a, i) => (i === 1 ? 'Do you do refunds?' : 'unexpected'), failWith: (i) => (i === 0 ? new Error('boom 503') : undefined) });
    const { session, out, mem, feed } = setup({ stt });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => mem.events.some((e) => e.type === 'provider.error'));
    feed(utterance(2000, 3000));
    await until(() => out.some((o) => o.name?.startsWith('turn-2-')));
    await endCall(session);
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload).toMatchObject({ stage: 'stt', message: expect.stringMatching(/boom/) });
    expect(mem.turns.filter((t) => t.role === 'caller').map((t) => t.text)).toEqual(['Do you do refunds?']);
  });

  it('a failing LLM gets a spoken apology instead of silence, and the error is recorded', async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const { session, mem, feed } = setup({ llm });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload).toMatchObject({ stage: 'reply', message: expect.stringMatching(/llm 500/) });
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(mem.turns[2].text).toBe(APOLOGY.en);
  });

  it('when the LLM and the TTS both fail, the cached apology audio is played byte for byte', async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const tts = new FakeTts({ failWith: (i) => (i > 0 ? new Error('tts 500') : undefined) });
    const bytes = Uint8Array.from({ length: 800 }, (_, i) => (i * 7) & 0xff);
    const { session, mem, feed, out } = setup({ llm, tts, apology: cached(bytes, OUTAGE_APOLOGY.en) });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    const sent = out.slice(before).filter((o) => o.kind === 'media').reduce((a, o) => a + (o.bytes ?? 0), 0);
    expect(sent).toBe(800);
    expect(mem.turns[2].text).toBe(OUTAGE_APOLOGY.en);
  });

  it("after the outage apology, a caller saying 'agent' is transferred without any provider", async () => {
    const llm = new FakeLlm({ replies: ['never'], failWith: () => new Error('llm 500') });
    const stt = new FakeStt({ respond: (_a, i) => (i === 0 ? 'Where is my order?' : 'Agent, please.') });
    const { session, mem, feed, actions } = setup({ llm, stt, apology: cached(new Uint8Array(400), OUTAGE_APOLOGY.en) });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await until(() => mem.turns.length === 3);
    feed(utterance(3000, 3800));
    await until(() => actions.length === 1);
    await endCall(session);
    expect(actions[0]).toMatchObject({ type: 'transfer', target: '+15005550006' });
    expect(mem.turns[3]).toMatchObject({ role: 'caller', text: 'Agent, please.', intent: 'human_handoff' });
    expect(llm.calls).toHaveLength(1);
  });

  it('dead air: a slow TTS gets the cached filler first, then the reply, in one utterance', async () => {
    const tts = new FakeTts({ firstByteMs: 400 });
    const filler = cached(new Uint8Array(240).fill(0x55), P.oneMoment.en);
    const { session, mem, feed, out } = setup({ tts, filler, limits: { deadAirMs: 150 } });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(0, 20)); // speech ended with the audio fed so far: the dead-air clock starts now
    await until(() => mem.turns.length === 3);
    await endCall(session);
    const first = out.slice(before).find((o) => o.kind === 'media')!;
    expect(first.bytes).toBe(160); // the filler's first 20 ms frame
    expect(first.at - out[before].at).toBeLessThanOrEqual(0); // nothing before it
    expect(mem.turns[2].text).toBe('We are open nine to five. Anything else?');
    expect(mem.turns[2].timings).toMatchObject({ fillerPlayed: true });
  });

  it('dead air: a slow STT gets the filler played on its own before the reply', async () => {
    const stt = new FakeStt({ transcripts: ['When are you open on Saturday?'], latencyMs: 400 });
    const filler = cached(new Uint8Array(320), P.oneMoment.en);
    const { session, mem, feed, out } = setup({ stt, filler, limits: { deadAirMs: 150 } });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 20));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(marks(out)).toContain('turn-2-filler');
    expect(mem.turns[2].text).toBe(`${P.oneMoment.en} We are open nine to five. Anything else?`);
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
    await endCall(session);
    expect(mem.turns[1]).toMatchObject({ role: 'caller', language: 'es' });
    expect(mem.turns[2]).toMatchObject({ role: 'agent', text: 'Abrimos a las nueve.', language: 'es' });
    expect(llm.calls[0].language).toBe('es');
    expect(tts.calls.find((c) => c.text === 'Abrimos a las nueve.')?.language).toBe('es');
    expect(stt.calls[1].languageHint).toBe('es'); // the next utterance is transcribed with the call's language
    expect(mem.turns[3]).toMatchObject({ role: 'caller', language: 'de' });
    expect(mem.turns[4].text.startsWith(P.unsupportedLanguage.en)).toBe(true);
  });

  it('dead air then an LLM failure: the filler is not mistaken for the reply, the cached apology still plays', async () => {
    const llm = new FakeLlm({ replies: ['never'], firstTokenMs: 400, failWith: () => new Error('llm 500') });
    const { session, mem, feed, out } = setup({
      llm, filler: cached(new Uint8Array(320), P.oneMoment.en), apology: cached(new Uint8Array(480), OUTAGE_APOLOGY.en), limits: { deadAirMs: 150 },
    });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 20));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(marks(out)).toEqual(expect.arrayContaining(['turn-2-filler', 'turn-3-apology']));
    expect(mem.turns[2].text).toBe(OUTAGE_APOLOGY.en);
  });

  it('DTMF digits are stored masked, menu keys as they are', async () => {
    const { session, mem } = setup();
    session.start();
    for (const d of ['4', '#', '7']) session.onDtmf(d);
    await endCall(session);
    expect(mem.events.filter((e) => e.type === 'dtmf').map((e) => e.payload?.digit)).toEqual(['X', '#', 'X']);
  });

  it('DTMF 0 interrupts the agent, says the handoff line, then transfers to the handoff number with a summary', async () => {
    const { session, mem, feed, actions } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => mem.turns.length === 3);
    session.onDtmf('0');
    await until(() => mem.transfers.length === 1);
    await endCall(session);
    expect(actions).toEqual([{ type: 'transfer', callSid: 'CAtest', target: '+15005550006' }]);
    expect(mem.transfers[0]).toMatchObject({ target: '+15005550006', reason: 'dtmf', summary: 'Transferred call. The caller asked: When are you open on Saturday. Reason: dtmf.' });
    expect(mem.turns.at(-1)?.text).toBe(P.handoff.en);
  });

  it('an LLM transfer_to_human tool call transfers after the reply is spoken', async () => {
    const llm = new FakeLlm({ replies: [{ text: 'Let me connect you with a colleague.', toolCalls: [{ id: 'call_1', name: 'transfer_to_human', arguments: '{"reason":"wants a person"}' }] }] });
    const tools = [{ name: 'transfer_to_human', description: 'Transfer', parameters: { type: 'object', properties: { reason: { type: 'string' } } } }];
    const { session, mem, feed, actions } = setup({ llm, tools });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2500));
    await until(() => actions.length === 1);
    await endCall(session);
    expect(actions[0]).toMatchObject({ type: 'transfer', target: '+15005550006' });
    expect(mem.transfers[0]).toMatchObject({ reason: 'wants a person' });
    expect(mem.turns.filter((t) => t.role === 'agent').map((t) => t.text)).toEqual(['Hello, thanks for calling.', 'Let me connect you with a colleague.']);
    expect(llm.calls[0].tools?.map((t) => t.name)).toEqual(['transfer_to_human']);
  });

  it('silence: reprompts N times, then says goodbye and hangs up', async () => {
    const { session, mem, actions } = setup({ limits: { silenceRepromptMs: 60, maxReprompts: 2 } });
    session.start();
    await until(() => actions.length === 1);
    await endCall(session);
    expect(actions[0]).toEqual({ type: 'hangup', callSid: 'CAtest' });
    expect(mem.endReasons).toEqual(['silence']);
    expect(mem.turns.map((t) => t.text)).toEqual(['Hello, thanks for calling.', P.reprompt.en, P.reprompt.en, P.goodbyeSilence.en]);
  });

  it('the call time limit interrupts the agent, says goodbye and hangs up', async () => {
    const tts = new FakeTts({ msPerChar: 200 });
    const { session, mem, actions } = setup({ tts, speed: 1, limits: { maxCallDurationMs: 1500 } });
    session.start();
    await until(() => actions.length === 1, 60_000);
    await endCall(session);
    expect(mem.endReasons).toEqual(['max_duration']);
    // The greeting (26 chars × 200 ms) was cut after ~1.5 s: only its first words are stored, marked interrupted.
    expect(mem.turns.map((t) => [t.text, t.interrupted])).toEqual([['Hello,', true], [P.maxDuration.en, false]]);
  });

  it('end() finishes the call within its deadline even when a provider ignores its AbortSignal', async () => {
    const stuck: LlmProvider = { id: 'stuck', chat: async function* () { await new Promise(() => undefined); } };
    const { session, mem, feed, ended } = setup({ llm: stuck, endDeadlineMs: 200 });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(0, 1000));
    await advance(50);
    const t0 = performance.now();
    await endCall(session);
    expect(performance.now() - t0).toBeLessThanOrEqual(250);
    expect(mem.finished).toHaveLength(1);
    expect(ended).toEqual([{ callSid: 'CAtest', finishedBefore: true }]);
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller']); // the unanswered words are kept
  });

  it('end() is idempotent and onEnded runs once after the rows are written', async () => {
    const { session, ended, mem } = setup();
    session.start();
    const both = Promise.all([session.end('stop'), session.end('socket closed')]);
    await until(() => ended.length === 1);
    await both;
    await endCall(session, 'again');
    expect(ended).toEqual([{ callSid: 'CAtest', finishedBefore: true }]);
    expect(mem.finished).toHaveLength(1);
    expect(mem.events.filter((e) => e.type === 'stream.ended')).toHaveLength(1);
  });
});
