import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import { cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

/** Issue 9 item 5: callers the offline STT cannot understand (its confidence says so). */

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const cached = (bytes: Uint8Array, text: string) => ({ get: () => bytes, text: (lang: string) => (lang === 'en' ? text : `(${lang}) ${text}`) });
const offer = Uint8Array.from({ length: 800 }, (_, i) => (i * 7) & 0xff);

describe('a caller turn below the STT confidence floor', () => {
  it('is stored flagged, never reaches the LLM, and the agent offers a person in its default language; asking for one transfers', async () => {
    // Moonshine's output for German speech (espeak-ng): wrong English at a geometric-mean token probability of 0.30.
    const stt = new FakeStt({ transcripts: [{ text: 'The second part is the most important.', language: 'en', confidence: 0.3 }, { text: 'Agent, please.', language: 'en', confidence: 0.9 }] });
    const llm = new FakeLlm({ respond: () => 'This must not be said.' });
    const { session, out, mem, actions, feed } = setup({ stt, llm, notUnderstood: cached(offer, P.notUnderstood.en), limits: { minSttConfidence: 0.5 } });
    session.start();
    await until(() => mem.turns.length === 1);
    const before = out.length;
    feed(utterance(1000, 3000));
    await until(() => mem.turns.length === 3);
    expect(mem.turns[1]).toMatchObject({ role: 'caller', text: 'The second part is the most important.', understood: false, language: null, sttConfidence: 0.3 });
    expect(mem.turns[2]).toMatchObject({ role: 'agent', text: P.notUnderstood.en, language: 'en' });
    expect(out.slice(before).filter((o) => o.kind === 'media').reduce((a, o) => a + (o.bytes ?? 0), 0)).toBe(offer.length);
    expect(llm.calls).toHaveLength(0);
    expect(mem.events.find((e) => e.type === 'stt.unintelligible')?.payload).toEqual({ confidence: 0.3 });
    // The offer was made: "agent" now transfers without the LLM.
    feed(utterance(6000, 7000));
    await until(() => actions.length === 1);
    expect(actions[0]).toMatchObject({ type: 'transfer', target: '+15005550006' });
    expect(llm.calls).toHaveLength(0);
    await endCall(session);
  });

  it('is answered as usual when the floor is off (0), or when the confidence is above it', async () => {
    for (const [floor, confidence] of [[0, 0.3], [0.5, 0.8]] as const) {
      const stt = new FakeStt({ transcripts: [{ text: 'When are you open on Saturday?', language: 'en', confidence }] });
      const llm = new FakeLlm({ respond: () => 'We are open nine to five.' });
      const { session, mem, feed } = setup({ stt, llm, notUnderstood: cached(offer, P.notUnderstood.en), limits: { minSttConfidence: floor } });
      session.start();
      await until(() => mem.turns.length === 1);
      feed(utterance(1000, 3000));
      await until(() => mem.turns.length === 3);
      expect(mem.turns[1].understood).toBeUndefined();
      expect(mem.turns[2].text).toBe('We are open nine to five.');
      expect(llm.calls).toHaveLength(1);
      await endCall(session);
      cleanupSessions();
    }
  });

  it('a transcript without a confidence (a provider that reports none) is never judged', async () => {
    const stt = new FakeStt({ transcripts: ['When are you open on Saturday?'] });
    const llm = new FakeLlm({ respond: () => 'We are open nine to five.' });
    const { session, mem, feed } = setup({ stt, llm, notUnderstood: cached(offer, P.notUnderstood.en), limits: { minSttConfidence: 0.9 } });
    session.start();
    await until(() => mem.turns.length === 1);
    feed(utterance(1000, 3000));
    await until(() => mem.turns.length === 3);
    expect(llm.calls).toHaveLength(1);
    await endCall(session);
  });
});
