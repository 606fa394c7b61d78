import { createMetrics } from '../../../src/metrics/metrics';
import type { LlmProvider, Passage } from '../../../src/providers/types';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import { advance, cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

/** Behaviours a caller notices when something goes wrong (issue 8); each of these failed on the engine before it. */

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const cached = (bytes: Uint8Array, text: string) => ({ get: () => bytes, text: () => text });
const fillerBytes = new Uint8Array(8000).fill(0x55); // 1 s of filler, so the caller can talk over it

describe('CallSession keeps every word and every failure audible', () => {
  it('a caller who keeps talking while the filler plays gets ONE merged caller turn, answered once; the cut filler is in the transcript', async () => {
    const stt = new FakeStt({ transcripts: ['I ordered a blue sofa last week', 'and it has not arrived yet.'] });
    const llm = new FakeLlm({ firstTokenMs: 1000, respond: (_req, i) => (i === 0 ? 'This stale reply must never be heard.' : 'Let me check your sofa order.') });
    const { session, out, mem, feedAt } = setup({ stt, llm, filler: cached(fillerBytes, P.oneMoment.en), limits: { deadAirMs: 150 }, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    feedAt(3000, utterance(1000, 3000));
    await until(() => out.some((o) => o.name === 'turn-2-filler')); // the filler is playing: the LLM is still thinking
    await advance(300);
    feedAt(3500, { type: 'speech_onset', atMs: 3500, speechStartMs: 3468 });
    await advance(400);
    feedAt(3900, { type: 'barge_in', atMs: 3900, speechStartMs: 3468 });
    await advance(1300);
    feedAt(5200, utterance(3468, 5200));
    await until(() => mem.turns.some((t) => t.text.endsWith('Let me check your sofa order.')));
    await endCall(session);

    expect(mem.turns.map((t) => [t.role, t.text, !!t.interrupted])).toEqual([
      ['agent', 'Hello, thanks for calling.', false],
      ['caller', 'I ordered a blue sofa last week and it has not arrived yet.', false],
      ['agent', 'One', true], // 300 ms of the filler were heard before the caller went on
      ['agent', `${P.oneMoment.en} Let me check your sofa order.`, false], // the merged turn's own dead-air filler, then the answer
    ]);
    expect(mem.turns[1]).toMatchObject({ startMs: 1000, endMs: 5200 });
    // The stale reply was cancelled, not queued behind: its words never went out, and the LLM saw one user turn.
    expect(llm.calls).toHaveLength(2);
    expect(llm.calls[1].messages.filter((m) => m.role === 'user')).toEqual([{ role: 'user', content: 'I ordered a blue sofa last week and it has not arrived yet.' }]);
    expect(out.filter((o) => o.name?.startsWith('turn-2-seg'))).toEqual([]);
  });

  it('a failed transcription is never silence: the cached "didn\'t catch that" plays and the reprompt is re-armed', async () => {
    const stt = new FakeStt({ failWith: () => new Error('whisper: 503 upstream') });
    const didNotCatch = Uint8Array.from({ length: 640 }, (_, i) => (i * 13) & 0xff);
    const { session, out, mem, feed } = setup({ stt, didNotCatch: cached(didNotCatch, P.didNotCatch.en), limits: { silenceRepromptMs: 3000 } });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(1000, 2000));
    await until(() => mem.turns.length === 2);
    expect(out.slice(before).filter((o) => o.kind === 'media').reduce((a, o) => a + (o.bytes ?? 0), 0)).toBe(640);
    expect(mem.turns[1]).toMatchObject({ role: 'agent', text: P.didNotCatch.en });
    expect(mem.events.find((e) => e.type === 'provider.error')?.payload).toMatchObject({ stage: 'stt', message: expect.stringMatching(/503/) });
    await advance(3000); // the caller stays silent: the reprompt timer was re-armed after the apology
    await until(() => mem.turns.length === 3);
    expect(mem.turns[2].text).toBe(P.reprompt.en);
    await endCall(session);
  });

  it('a barge-in during a slow retrieval frees the call at once: the retrieval is aborted and the next turn starts speaking within 100 ms of its end of turn', async () => {
    const signals: AbortSignal[] = [];
    // The first retrieval never finishes on its own and ignores its signal (a hung vector store).
    const retrieve = (_a: string, _q: string, _k: number, o?: { signal?: AbortSignal }): Promise<Passage[]> => {
      if (o?.signal) signals.push(o.signal);
      return signals.length === 1 ? new Promise(() => undefined) : Promise.resolve([]);
    };
    const stt = new FakeStt({ transcripts: ['What is the status of my refund?', 'Actually, never mind that.'] });
    const llm = new FakeLlm({ replies: ['Okay, what else can I do for you?'] });
    const { session, out, mem, feed } = setup({ stt, llm, retrieve, tts: new FakeTts() });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2000));
    await until(() => signals.length === 1);
    feed({ type: 'speech_onset', atMs: 2500, speechStartMs: 2468 }, { type: 'barge_in', atMs: 2900, speechStartMs: 2468 });
    await advance(5);
    expect(signals[0].aborted).toBe(true);
    await advance(500);
    const before = out.length;
    const endOfTurn = performance.now();
    feed(utterance(2468, 3100));
    await until(() => out.slice(before).some((o) => o.kind === 'media'), 1000, 1);
    const first = out.slice(before).find((o) => o.kind === 'media')!;
    expect(first.at - endOfTurn).toBeLessThanOrEqual(100);
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(mem.turns[1]).toMatchObject({ role: 'caller', text: 'What is the status of my refund? Actually, never mind that.' });
    expect(mem.turns[2].timings?.turnOverheadMs).toBeLessThanOrEqual(100);
  });

  it('marks that never come back leave pending after their timeout, and no spurious clear follows', async () => {
    const { session, out, mem, feed } = setup({ noMarks: true, speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1, 20_000); // the greeting is taken as played after playout + grace
    await advance(100);
    feed({ type: 'speech_onset', atMs: 5000, speechStartMs: 4968 });
    await advance(50);
    expect(out.filter((o) => o.kind === 'clear')).toEqual([]);
    await endCall(session);
  });

  it('a VAD failure fails only its own audio: each failure is counted and the call goes on answering', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { session, mem, feed, detector } = setup({ metrics });
    session.start();
    await until(() => mem.turns.length === 1);
    detector.failures = 2;
    session.onMedia(new Uint8Array(160).fill(0xff));
    await advance(5);
    session.onMedia(new Uint8Array(160).fill(0xff));
    await advance(5);
    feed(utterance(1000, 2000));
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(mem.events.filter((e) => e.type === 'provider.error' && e.payload?.stage === 'vad')).toHaveLength(2);
    expect((await metrics.vadFailedWindows.get()).values[0].value).toBe(2);
    expect(mem.turns[2].text).toBe('We are open nine to five. Anything else?');
  });

  it('a database outage mid-call loses no row: writes are retried in order until the database is back', async () => {
    const { session, mem, feed, ended } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    mem.outage.down = true;
    feed(utterance(1000, 2000));
    await advance(3000);
    expect(mem.turns).toHaveLength(1);
    mem.outage.down = false;
    await until(() => mem.turns.length === 3);
    await endCall(session);
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller', 'agent']);
    expect(ended).toEqual([{ callSid: 'CAtest', finishedBefore: true }]);
  });

  it('after the end-of-call deadline nothing more is written for the call, even by a provider that ignored its abort', async () => {
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    const slow: LlmProvider = {
      id: 'deaf',
      chat: async function* () {
        await late; // ignores the AbortSignal
        yield { type: 'text', text: 'A late answer. ' };
      },
    };
    const { session, mem, feed, ended } = setup({ llm: slow, endDeadlineMs: 300 });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 2000));
    await advance(50);
    await endCall(session);
    expect(ended).toHaveLength(1);
    const writes = mem.writes.length;
    release();
    await advance(10_000);
    expect(mem.writes.length).toBe(writes);
    expect(mem.turns.map((t) => t.role)).toEqual(['agent', 'caller']);
  });

  it('a caller who hangs up mid-sentence is kept: the endpointer is flushed and the words stored', async () => {
    const stt = new FakeStt({ transcripts: ['I just wanted to say thank'] });
    const { session, mem, detector } = setup({ stt });
    session.start();
    await until(() => mem.turns.length === 1);
    detector.emit(utterance(1000, 1800)); // what the endpointer returns at flush (reason end_of_stream)
    await endCall(session);
    expect(mem.turns.map((t) => [t.role, t.text])).toEqual([['agent', 'Hello, thanks for calling.'], ['caller', 'I just wanted to say thank']]);
  });

  it('once the agent decided to transfer, the caller talking over the handoff line does not cancel the transfer; the words are kept', async () => {
    const stt = new FakeStt({ transcripts: ['Hello? Are you putting me through?'] });
    const { session, mem, feed, actions } = setup({ stt, tts: new FakeTts({ msPerChar: 60 }), speed: 1 });
    session.start();
    await until(() => mem.turns.length === 1);
    session.onDtmf('0');
    await advance(300); // the handoff line is playing
    feed({ type: 'speech_onset', atMs: 3000, speechStartMs: 2968 }, { type: 'barge_in', atMs: 3400, speechStartMs: 2968 }, utterance(2968, 3600));
    await until(() => actions.length === 1);
    await endCall(session);
    expect(actions).toEqual([{ type: 'transfer', callSid: 'CAtest', target: '+15005550006' }]);
    expect(mem.turns.map((t) => [t.role, t.text, !!t.interrupted])).toEqual([
      ['agent', 'Hello, thanks for calling.', false],
      ['agent', P.handoff.en, false],
      ['caller', 'Hello? Are you putting me through?', false],
    ]);
  });

  it('caller audio waiting for a stalled VAD is bounded: past 10 s the call refuses more (the stream is closed), memory does not grow', async () => {
    const { session, mem, detector } = setup();
    session.start();
    await until(() => mem.turns.length === 1);
    detector.push = () => new Promise(() => undefined); // the VAD never answers
    const second = new Uint8Array(8000).fill(0xff);
    let accepted = 0;
    let error: Error | null = null;
    for (; accepted < 60 && !error; accepted++) {
      try {
        session.onMedia(second);
      } catch (err) {
        error = err as Error;
      }
    }
    expect(error?.message).toMatch(/more than 10000 ms of caller audio waiting for the VAD/);
    expect(accepted - 1).toBe(11); // seconds of audio taken: up to the 10 s cap, then refused
    await endCall(session);
  });
});
