import { mulawDecode } from '../../../src/audio/mulaw';
import { ProviderError } from '../../../src/providers/errors';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeStt, fakeOutage } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import type { ChatRequest, LlmDelta } from '../../../src/providers/types';

const pcm = { samples: new Int16Array(800), sampleRate: 8000 };
const req: ChatRequest = { system: 's', messages: [{ role: 'user', content: 'hi there' }], passages: [], language: 'en', intents: [] };

describe('FakeStt', () => {
  it('returns scripted transcripts in order, then the respond function, after the latency', async () => {
    const stt = new FakeStt({ transcripts: ['one', { text: 'dos', language: 'es' }], respond: (a, i) => `call ${i} ${a.samples.length}`, latencyMs: 30, language: 'en' });
    const t0 = Date.now();
    expect(await stt.transcribe(pcm, { signal: new AbortController().signal })).toEqual({ text: 'one', language: 'en' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(await stt.transcribe(pcm, { signal: new AbortController().signal })).toEqual({ text: 'dos', language: 'es' });
    expect((await stt.transcribe(pcm, { languageHint: 'fr', signal: new AbortController().signal })).text).toBe('call 2 800');
    expect(stt.calls[2]).toEqual({ samples: 800, sampleRate: 8000, languageHint: 'fr' });
  });

  it('fails when scripted and rejects promptly on abort', async () => {
    const stt = new FakeStt({ failWith: (i) => (i === 0 ? fakeOutage('fake.stt') : undefined), latencyMs: 1000 });
    const ac = new AbortController();
    const p = stt.transcribe(pcm, { signal: ac.signal });
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(200);
    const quick = new FakeStt({ failWith: (i) => (i === 0 ? fakeOutage('fake.stt') : undefined) });
    await expect(quick.transcribe(pcm, { signal: new AbortController().signal })).rejects.toMatchObject({ name: 'ProviderError', retryable: true, status: 503 });
    await expect(quick.transcribe(pcm, { signal: new AbortController().signal })).resolves.toEqual({ text: '', language: undefined });
  });
});

describe('FakeTts', () => {
  it('yields 8 kHz mu-law proportional to the text, in 20 ms chunks, after the first-byte latency', async () => {
    const tts = new FakeTts({ firstByteMs: 30, msPerChar: 50 });
    const t0 = Date.now();
    let first = -1;
    const sizes: number[] = [];
    for await (const c of tts.synthesize('hello world', { language: 'en', signal: new AbortController().signal })) {
      if (first < 0) first = Date.now() - t0;
      expect(c).toMatchObject({ encoding: 'mulaw', sampleRate: 8000 });
      sizes.push(c.data.length);
      expect(Math.max(...Array.from(mulawDecode(c.data), Math.abs))).toBeGreaterThan(4000); // a real tone
    }
    expect(first).toBeGreaterThanOrEqual(25);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(11 * 50 * 8);
    expect(sizes.slice(0, -1).every((s) => s === 160)).toBe(true);
  });

  it('stops promptly on abort', async () => {
    const tts = new FakeTts({ interChunkMs: 20 });
    const ac = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const _ of tts.synthesize('x'.repeat(1000), { language: 'en', signal: ac.signal })) if (++n === 3) ac.abort();
    })().catch((e) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(n).toBe(3);
  });
});

describe('FakeLlm', () => {
  it('streams an intent then the reply word by word with first-token and per-token delays', async () => {
    const llm = new FakeLlm({ replies: [{ text: 'Your order ships today.', intent: { intent: 'order_status', confidence: 0.9 } }], firstTokenMs: 30, perTokenMs: 10 });
    const t0 = Date.now();
    const deltas: LlmDelta[] = [];
    const times: number[] = [];
    for await (const d of llm.chat(req, new AbortController().signal)) { deltas.push(d); times.push(Date.now() - t0); }
    expect(deltas[0]).toEqual({ type: 'intent', intent: 'order_status', confidence: 0.9 });
    expect(deltas.slice(1, 5)).toEqual(['Your ', 'order ', 'ships ', 'today.'].map((text) => ({ type: 'text', text })));
    expect(deltas[5]).toEqual({ type: 'usage', promptTokens: expect.any(Number), completionTokens: 6 }); // ⌈chars / 4⌉, as OpenAI reports it last
    expect(times[0]).toBeGreaterThanOrEqual(25);
    expect(times[4] - times[1]).toBeGreaterThanOrEqual(25);
    expect(llm.calls).toEqual([req]);
  });

  it('echoes by default, emits tool calls, fails when scripted and stops on abort', async () => {
    const texts: string[] = [];
    for await (const d of new FakeLlm().chat(req, new AbortController().signal)) if (d.type === 'text') texts.push(d.text);
    expect(texts.join('')).toBe('You said: hi there');
    const tool = new FakeLlm({ replies: [{ text: 'ok', toolCalls: [{ id: 't1', name: 'transfer', arguments: '{}' }] }] });
    const all: LlmDelta[] = [];
    for await (const d of tool.chat(req, new AbortController().signal)) all.push(d);
    expect(all.slice(-2)).toEqual([{ type: 'tool_call', id: 't1', name: 'transfer', arguments: '{}' }, { type: 'usage', promptTokens: 3, completionTokens: 3 }]);
    const failing = new FakeLlm({ failWith: () => new ProviderError('fake.llm', 'boom', { retryable: false }) });
    await expect((async () => { for await (const _ of failing.chat(req, new AbortController().signal)); })()).rejects.toBeInstanceOf(ProviderError);
    const ac = new AbortController();
    const slow = new FakeLlm({ replies: ['a b c d e f g'], perTokenMs: 50 });
    const got: string[] = [];
    const err = await (async () => {
      for await (const d of slow.chat(req, ac.signal)) { if (d.type === 'text') got.push(d.text); if (got.length === 2) ac.abort(); }
    })().catch((e) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(got).toEqual(['a ', 'b ']);
  });
});
