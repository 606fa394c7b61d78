import { FakeStt } from '../../../src/providers/stt/fake';
import { agent, cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

/** The agent's domain vocabulary corrects near-misses in caller transcripts before the LLM and the transcript see them. */

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const HEARD = 'Is the acne store in Dashwod open on Saturday?';
const withVocabulary = { ...agent, vocabulary: ['Acme', 'Dashwood'] };

/** Answers one utterance transcribed as `HEARD`; returns the LLM's last user message and the stored turns. */
async function answerOne(a: typeof agent) {
  const { session, mem, feed, llmRequests } = setup({ agent: a, stt: new FakeStt({ transcripts: [HEARD] }) });
  session.start();
  await until(() => mem.turns.length === 1);
  feed(utterance(1000, 2500));
  await until(() => mem.turns.length === 3);
  await endCall(session);
  return { llmUser: llmRequests[0].messages.at(-1), turns: mem.turns };
}

describe('domain vocabulary in the reply pipeline', () => {
  it('an agent with a vocabulary: the LLM and the stored caller turn get the corrected transcript; the reply turn counts the corrections', async () => {
    const { llmUser, turns } = await answerOne(withVocabulary);
    expect(llmUser).toEqual({ role: 'user', content: 'Is the Acme store in Dashwood open on Saturday?' });
    expect(turns[1]).toMatchObject({ role: 'caller', text: 'Is the Acme store in Dashwood open on Saturday?' });
    expect(turns[2].timings?.vocabularyCorrections).toBe(2);
  });

  it('an agent without a vocabulary (the default) gets the transcript unchanged', async () => {
    for (const a of [agent, { ...agent, vocabulary: [] }]) {
      const { llmUser, turns } = await answerOne(a);
      expect(llmUser).toEqual({ role: 'user', content: HEARD });
      expect(turns[1].text).toBe(HEARD);
      expect(turns[2].timings).not.toHaveProperty('vocabularyCorrections');
      cleanupSessions();
    }
  });

  it('words of a caller who hangs up before any reply are stored corrected too', async () => {
    const { session, mem, detector } = setup({ agent: withVocabulary, stt: new FakeStt({ transcripts: ['I wanted to ask about acne'] }) });
    session.start();
    await until(() => mem.turns.length === 1);
    detector.emit(utterance(1000, 1800)); // what the endpointer returns at flush
    await endCall(session);
    expect(mem.turns.map((t) => [t.role, t.text])).toEqual([['agent', 'Hello, thanks for calling.'], ['caller', 'I wanted to ask about Acme']]);
  });
});
