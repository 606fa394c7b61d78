import { ProviderError } from '../../../src/providers/errors';
import { FakeStt, fakeOutage } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FallbackLlm, FallbackStt, FallbackTts, ProviderTimeoutError, ResilientLlm, ResilientStt, ResilientTts, type ResilienceOptions } from '../../../src/providers/resilience';
import type { AudioChunk, ChatRequest, TtsProvider } from '../../../src/providers/types';
import { captureLogger, collect, collectUntilError, counterTotal, counterValue, testMetrics, utterance } from './helpers';

const signal = () => new AbortController().signal;
const req: ChatRequest = { system: '', messages: [{ role: 'user', content: 'hi' }], passages: [], language: 'en', intents: [] };
const text = (deltas: Array<{ type: string; text?: string }>) => deltas.map((d) => d.text ?? '').join('');

/** A FakeTts with another id, so chains can tell providers apart. */
class NamedTts extends FakeTts {
  constructor(readonly name: string, o: ConstructorParameters<typeof FakeTts>[0] = {}) {
    super(o);
    Object.defineProperty(this, 'id', { value: name });
  }
}
class NamedStt extends FakeStt {
  constructor(readonly name: string, o: ConstructorParameters<typeof FakeStt>[0] = {}) {
    super(o);
    Object.defineProperty(this, 'id', { value: name });
  }
}
class NamedLlm extends FakeLlm {
  constructor(readonly name: string, o: ConstructorParameters<typeof FakeLlm>[0] = {}) {
    super(o);
    Object.defineProperty(this, 'id', { value: name });
  }
}

describe('FallbackStt', () => {
  it('moves to the next provider when the first fails (after its retries) and counts both', async () => {
    const metrics = testMetrics();
    const { logger, lines } = captureLogger();
    const r: ResilienceOptions = { timeoutMs: 1000, retry: { maxRetries: 1, baseDelayMs: 1 }, metrics, logger };
    const cloud = new NamedStt('cloud.stt', { failWith: () => fakeOutage('cloud.stt', 503) });
    const local = new NamedStt('local.stt', { transcripts: ['hola'], language: 'es' });
    const stt = new FallbackStt([new ResilientStt(cloud, r), new ResilientStt(local, r)], { metrics, logger });
    expect(stt.id).toBe('cloud.stt>local.stt');
    await expect(stt.transcribe(utterance(), { languageHint: 'es', signal: signal() })).resolves.toEqual({ text: 'hola', language: 'es' });
    expect(cloud.calls).toHaveLength(2);
    expect(local.calls).toEqual([{ samples: 800, sampleRate: 8000, languageHint: 'es' }]);
    expect(await counterValue(metrics.providerErrors, { capability: 'stt', provider: 'cloud.stt', kind: 'http_5xx' })).toBe(2);
    expect(await counterValue(metrics.providerFallbacks, { capability: 'stt', from: 'cloud.stt', to: 'local.stt' })).toBe(1);
    const fallbackLog = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'provider failed; falling back');
    expect(fallbackLog).toMatchObject({ capability: 'stt', from: 'cloud.stt', to: 'local.stt', kind: 'http_5xx' });
    expect(fallbackLog.err).toContain('scripted outage');
  });

  it('uses only the primary when it succeeds', async () => {
    const metrics = testMetrics();
    const a = new NamedStt('a', { transcripts: ['yes'] });
    const b = new NamedStt('b');
    await expect(new FallbackStt([a, b], { metrics }).transcribe(utterance(), { signal: signal() })).resolves.toMatchObject({ text: 'yes' });
    expect(b.calls).toHaveLength(0);
    expect(await counterTotal(metrics.providerFallbacks)).toBe(0);
  });

  it('throws the last error when every provider fails', async () => {
    const a = new NamedStt('a', { failWith: () => fakeOutage('a') });
    const b = new NamedStt('b', { failWith: () => new ProviderError('b', 'HTTP 401', { retryable: false, status: 401 }) });
    await expect(new FallbackStt([a, b]).transcribe(utterance(), { signal: signal() })).rejects.toMatchObject({ provider: 'b', status: 401 });
  });

  it("does not fall back on the caller's abort", async () => {
    const metrics = testMetrics();
    const a = new NamedStt('a', { latencyMs: 5000 });
    const b = new NamedStt('b');
    const ac = new AbortController();
    const reason = new Error('hangup');
    setTimeout(() => ac.abort(reason), 10);
    const r: ResilienceOptions = { timeoutMs: 1000, retry: { maxRetries: 2 }, metrics };
    await expect(new FallbackStt([new ResilientStt(a, r), new ResilientStt(b, r)], { metrics }).transcribe(utterance(), { signal: ac.signal })).rejects.toBe(reason);
    expect(b.calls).toHaveLength(0);
    expect(await counterTotal(metrics.providerErrors)).toBe(0);
    expect(await counterTotal(metrics.providerFallbacks)).toBe(0);
  });

  it('warms up and closes every provider', async () => {
    const warmed: string[] = [];
    const closed: string[] = [];
    const mk = (id: string) => ({ id, transcribe: async () => ({ text: '' }), warmup: async () => { warmed.push(id); }, close: async () => { closed.push(id); } });
    const stt = new FallbackStt([mk('a'), mk('b')]);
    await stt.warmup();
    await stt.close();
    expect([warmed.sort(), closed.sort()]).toEqual([['a', 'b'], ['a', 'b']]);
  });
});

describe('FallbackTts', () => {
  it('falls back before the first audio (ElevenLabs → OpenAI → local style) and speaks with one voice', async () => {
    const metrics = testMetrics();
    const r: ResilienceOptions = { timeoutMs: 30, retry: { maxRetries: 0 }, metrics };
    const eleven = new NamedTts('eleven', { failWith: () => fakeOutage('eleven', 500) });
    const openai = new NamedTts('openai', { firstByteMs: 5000 }); // times out
    const local = new NamedTts('local', { toneHz: 0 });
    const tts = new FallbackTts([eleven, openai, local].map((p) => new ResilientTts(p, r)), { metrics });
    expect(tts.id).toBe('eleven>openai>local');
    const chunks = await collect(tts.synthesize('Hello', { language: 'en', signal: signal() }));
    expect(chunks.reduce((n, c) => n + c.data.length, 0)).toBe(local.bytesFor('Hello'));
    expect(chunks.every((c) => c.data.every((b) => b === 0xff))).toBe(true); // all from the local (silent) voice
    expect([eleven.calls.length, openai.calls.length, local.calls.length]).toEqual([1, 1, 1]);
    expect(await counterValue(metrics.providerErrors, { capability: 'tts', provider: 'eleven', kind: 'http_5xx' })).toBe(1);
    expect(await counterValue(metrics.providerErrors, { capability: 'tts', provider: 'openai', kind: 'timeout' })).toBe(1);
    expect(await counterValue(metrics.providerFallbacks, { capability: 'tts', from: 'openai', to: 'local' })).toBe(1);
    expect(await counterTotal(metrics.providerFallbacks)).toBe(1);
  });

  it('never falls back after audio has started (no second voice mid-sentence)', async () => {
    const metrics = testMetrics();
    const cut: TtsProvider = {
      id: 'cut',
      async *synthesize() {
        yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(160) } satisfies AudioChunk;
        throw fakeOutage('cut', 502);
      },
    };
    const next = new NamedTts('next');
    const { items, error } = await collectUntilError(new FallbackTts([cut, next], { metrics }).synthesize('Hello', { language: 'en', signal: signal() }));
    expect(items).toHaveLength(1);
    expect(error).toMatchObject({ provider: 'cut', status: 502 });
    expect(next.calls).toHaveLength(0);
    expect(await counterTotal(metrics.providerFallbacks)).toBe(0);
  });

  it("stops on the caller's abort without trying the next provider", async () => {
    const a = new NamedTts('a', { firstByteMs: 5000 });
    const b = new NamedTts('b');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const { error } = await collectUntilError(new FallbackTts([a, b]).synthesize('Hi', { language: 'en', signal: ac.signal }));
    expect(error).toBe(ac.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(b.calls).toHaveLength(0);
  });
});

describe('FallbackLlm', () => {
  it('falls back when the primary times out before its first token', async () => {
    const metrics = testMetrics();
    const r: ResilienceOptions = { timeoutMs: 20, retry: { maxRetries: 0 }, metrics };
    const cloud = new NamedLlm('cloud', { firstTokenMs: 5000 });
    const local = new NamedLlm('local', { replies: ['Our hours are nine to five.'] });
    const llm = new FallbackLlm([new ResilientLlm(cloud, r), new ResilientLlm(local, r)], { metrics });
    expect(text(await collect(llm.chat(req, signal())))).toBe('Our hours are nine to five.');
    expect(await counterValue(metrics.providerErrors, { capability: 'llm', provider: 'cloud', kind: 'timeout' })).toBe(1);
    expect(await counterValue(metrics.providerFallbacks, { capability: 'llm', from: 'cloud', to: 'local' })).toBe(1);
  });

  it('propagates a failure after the first delta', async () => {
    const cloud = new NamedLlm('cloud', { replies: ['one two three'] });
    let n = 0;
    const breaking = {
      id: 'breaking',
      async *chat(r: ChatRequest, s: AbortSignal) {
        for await (const d of cloud.chat(r, s)) {
          yield d;
          if (++n === 2) throw new ProviderTimeoutError('breaking', 'stream', 10);
        }
      },
    };
    const local = new NamedLlm('local');
    const { items, error } = await collectUntilError(new FallbackLlm([breaking, local]).chat(req, signal()));
    expect(text(items)).toBe('one two ');
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(local.calls).toHaveLength(0);
  });
});
