import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { estimateTokens, FakeLlm, promptText } from '../../../src/providers/llm/fake';
import { MeteredLlm, MeteredStt, MeteredTts } from '../../../src/providers/metered';
import { FallbackStt } from '../../../src/providers/resilience/fallback';
import { ProviderError } from '../../../src/providers/errors';
import type { ChatRequest, SttProvider } from '../../../src/providers/types';
import { cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const GREETING = 'Hello, thanks for calling.';
const REPLY = 'We are open nine to five. Anything else?';

/** A simulated call through metered fakes: the greeting, one caller utterance of 1.5 s, one two-sentence reply. */
async function oneTurnCall(stt: SttProvider) {
  const requests: ChatRequest[] = [];
  const synthesized: string[] = [];
  const tts = new FakeTts({ firstByteMs: 5 });
  const spy = { id: tts.id, synthesize: (text: string, o: Parameters<FakeTts['synthesize']>[1]) => (synthesized.push(text), tts.synthesize(text, o)) };
  const llm = new FakeLlm({ respond: (req) => (requests.push(req), { text: REPLY, intent: { intent: 'hours', confidence: 0.9 } }) });
  const h = setup({ stt, tts: new MeteredTts(spy), llm: new MeteredLlm(llm) });
  h.session.start();
  await until(() => h.mem.turns.length === 1);
  h.feed(utterance(1000, 2500));
  await until(() => h.mem.turns.length === 3);
  await endCall(h.session);
  return { ...h, requests, synthesized };
}

describe('call usage (providers that served, counted per utterance / sentence / LLM round)', () => {
  it('records STT seconds, LLM prompt and completion tokens and TTS characters per provider, written once at the end', async () => {
    const { mem, requests, synthesized } = await oneTurnCall(new MeteredStt(new FakeStt({ transcripts: ['When are you open on Saturday?'] })));
    expect(synthesized[0]).toBe(GREETING);
    expect(synthesized.join(' ')).toBe(`${GREETING} ${REPLY}`);
    const byKind = Object.fromEntries(mem.usage.map((u) => [`${u.provider}/${u.kind}`, u.quantity]));
    expect(byKind).toEqual({
      'fake.tts/tts_characters': synthesized.reduce((n, t) => n + t.length, 0),
      'fake.stt/stt_audio': 1.5,
      'fake.llm/llm_prompt': estimateTokens(promptText(requests[0])),
      'fake.llm/llm_completion': estimateTokens(REPLY),
    });
    expect(byKind['fake.llm/llm_prompt']).toBeGreaterThan(10); // the system prompt, the passage and the conversation
    expect(mem.finished).toHaveLength(1);
  });

  it('a failed provider is not counted: the fallback that transcribed the utterance is', async () => {
    const down: SttProvider = { id: 'vendor.stt', transcribe: async () => Promise.reject(new ProviderError('vendor.stt', 'HTTP 503', { retryable: true, status: 503 })) };
    const stt = new FallbackStt([new MeteredStt(down), new MeteredStt(new FakeStt({ transcripts: ['When are you open on Saturday?'] }))]);
    const { mem } = await oneTurnCall(stt);
    const stt_ = mem.usage.filter((u) => u.kind === 'stt_audio');
    expect(stt_).toEqual([{ provider: 'fake.stt', kind: 'stt_audio', quantity: 1.5 }]);
  });

  it('a provider call without a meter counts nothing and passes no usage delta on', async () => {
    jest.useRealTimers();
    const llm = new MeteredLlm(new FakeLlm({ replies: ['Hi there.'] }));
    const deltas = [];
    for await (const d of llm.chat({ system: 's', messages: [{ role: 'user', content: 'hello' }], passages: [], language: 'en', intents: [] }, new AbortController().signal)) deltas.push(d);
    expect(deltas.map((d) => d.type)).toEqual(['text', 'text']);
  });
});
