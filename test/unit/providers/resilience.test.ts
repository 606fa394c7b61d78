import { ProviderError } from '../../../src/providers/errors';
import { FakeStt, fakeOutage } from '../../../src/providers/stt/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import {
  ProviderTimeoutError,
  ResilientEmbedder,
  ResilientLlm,
  ResilientStt,
  ResilientTts,
  ResilientVectorStore,
  errorKind,
  retryAfterMs,
  retryDelayMs,
  safeErrorMessage,
  type ResilienceOptions,
} from '../../../src/providers/resilience';
import type { AudioChunk, Embedder, SttProvider, TtsProvider, VectorStore } from '../../../src/providers/types';
import { captureLogger, collect, collectUntilError, counterTotal, counterValue, testMetrics, utterance } from './helpers';

const opts = (over: Partial<ResilienceOptions> = {}): ResilienceOptions => ({
  timeoutMs: 1000,
  retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
  ...over,
});
const signal = () => new AbortController().signal;
const badRequest = (p: string) => new ProviderError(p, 'HTTP 400: bad request', { retryable: false, status: 400 });

describe('error classification', () => {
  it('maps timeouts and HTTP statuses to metric kinds', () => {
    expect(errorKind(new ProviderTimeoutError('x', 'first audio', 5))).toBe('timeout');
    expect(errorKind(new ProviderError('x', 'request timed out', { retryable: true }))).toBe('timeout');
    expect(errorKind(new ProviderError('x', 'HTTP 408', { retryable: true, status: 408 }))).toBe('timeout');
    expect(errorKind(fakeOutage('x', 429))).toBe('http_429');
    expect(errorKind(fakeOutage('x', 503))).toBe('http_5xx');
    expect(errorKind(badRequest('x'))).toBe('http_4xx');
    expect(errorKind(new Error('boom'))).toBe('error');
    expect(errorKind('weird')).toBe('error');
  });

  it('reads Retry-After from the error, its headers or its cause', () => {
    expect(retryAfterMs(Object.assign(new Error('x'), { retryAfterMs: 250 }))).toBe(250);
    expect(retryAfterMs({ headers: new Headers({ 'retry-after': '2' }) })).toBe(2000);
    expect(retryAfterMs({ headers: { 'Retry-After-Ms': '300' } })).toBe(300);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new ProviderError('x', 'y', { retryable: true, cause: { rawResponse: { headers: new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }) } } }), now)).toBe(3000);
    expect(retryAfterMs(new Error('none'))).toBeUndefined();
  });

  it('redacts key- and token-shaped strings from logged messages', () => {
    const msg = safeErrorMessage(new Error('401 Incorrect API key provided: sk-proj-abcdEFGH12345678 (Bearer abc.def) api_key=hunter2hunter2'));
    expect(msg).not.toMatch(/abcdEFGH12345678|abc\.def|hunter2/);
    expect(msg).toContain('[redacted]');
  });

  it('backs off briefly with jitter, honours a short Retry-After and gives up on a long one', () => {
    const p = { maxRetries: 2, random: () => 0.999 };
    const outage = fakeOutage('x');
    expect(retryDelayMs(outage, 0, p)).toBeLessThanOrEqual(100);
    expect(retryDelayMs(outage, 0, { ...p, random: () => 0 })).toBe(50);
    expect(retryDelayMs(outage, 1, p)).toBeLessThanOrEqual(200);
    expect(retryDelayMs(outage, 2, p)).toBeNull(); // retries exhausted
    expect(retryDelayMs(badRequest('x'), 0, p)).toBeNull();
    expect(retryDelayMs(new Error('not a ProviderError'), 0, p)).toBeNull();
    expect(retryDelayMs(Object.assign(fakeOutage('x', 429), { retryAfterMs: 700 }), 0, p)).toBe(700);
    expect(retryDelayMs(Object.assign(fakeOutage('x', 429), { retryAfterMs: 5000 }), 0, p)).toBeNull();
    const timeout = new ProviderTimeoutError('x', 'first audio', 10);
    expect(retryDelayMs(timeout, 0, p)).not.toBeNull();
    expect(retryDelayMs(timeout, 0, { ...p, retryTimeouts: false })).toBeNull();
    expect(retryDelayMs(outage, 0, { ...p, retryTimeouts: false })).not.toBeNull();
  });
});

describe('ResilientStt', () => {
  it('retries a retryable error and counts the failed attempt', async () => {
    const metrics = testMetrics();
    const inner = new FakeStt({ transcripts: ['hello'], failWith: (i) => (i === 0 ? fakeOutage('fake.stt', 503) : undefined) });
    const stt = new ResilientStt(inner, opts({ metrics }));
    expect(stt.id).toBe('fake.stt');
    await expect(stt.transcribe(utterance(), { signal: signal() })).resolves.toEqual({ text: 'hello', language: undefined });
    expect(inner.calls).toHaveLength(2);
    expect(await counterValue(metrics.providerErrors, { capability: 'stt', provider: 'fake.stt', kind: 'http_5xx' })).toBe(1);
  });

  it('does not retry a non-retryable error', async () => {
    const metrics = testMetrics();
    const inner = new FakeStt({ failWith: () => badRequest('fake.stt') });
    const stt = new ResilientStt(inner, opts({ metrics, retry: { maxRetries: 3, baseDelayMs: 1 } }));
    await expect(stt.transcribe(utterance(), { signal: signal() })).rejects.toMatchObject({ status: 400, retryable: false });
    expect(inner.calls).toHaveLength(1);
    expect(await counterValue(metrics.providerErrors, { capability: 'stt', provider: 'fake.stt', kind: 'http_4xx' })).toBe(1);
  });

  it('gives up after maxRetries and throws the last error', async () => {
    const inner = new FakeStt({ failWith: (i) => fakeOutage('fake.stt', 500 + i) });
    const stt = new ResilientStt(inner, opts({ retry: { maxRetries: 2, baseDelayMs: 1 } }));
    await expect(stt.transcribe(utterance(), { signal: signal() })).rejects.toMatchObject({ status: 502 });
    expect(inner.calls).toHaveLength(3);
  });

  it('times out a slow utterance, aborts the request and retries it', async () => {
    const metrics = testMetrics();
    const seen: AbortSignal[] = [];
    const slow: SttProvider = {
      id: 'slow.stt',
      transcribe: (_a, o) => {
        seen.push(o.signal);
        return new Promise(() => {}); // never settles, ignores its signal
      },
    };
    const stt = new ResilientStt(slow, opts({ timeoutMs: 20, metrics }));
    const err = await stt.transcribe(utterance(), { signal: signal() }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderTimeoutError);
    expect(err).toMatchObject({ retryable: true, provider: 'slow.stt' });
    expect(err.message).toBe('slow.stt: transcription timed out after 20 ms');
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
    expect(await counterValue(metrics.providerErrors, { capability: 'stt', provider: 'slow.stt', kind: 'timeout' })).toBe(2);
  });

  it("passes the caller's abort through: not a ProviderError, not retried, not counted", async () => {
    const metrics = testMetrics();
    const { logger, lines } = captureLogger();
    const inner = new FakeStt({ latencyMs: 5000 });
    const stt = new ResilientStt(inner, opts({ metrics, logger, retry: { maxRetries: 3 } }));
    const ac = new AbortController();
    const reason = new Error('caller hung up');
    setTimeout(() => ac.abort(reason), 10);
    await expect(stt.transcribe(utterance(), { signal: ac.signal })).rejects.toBe(reason);
    expect(inner.calls).toHaveLength(1);
    expect(await counterTotal(metrics.providerErrors)).toBe(0);
    expect(lines).toHaveLength(0);
  });

  it('logs failures with the provider id and a redacted message', async () => {
    const { logger, lines } = captureLogger();
    const inner = new FakeStt({ failWith: () => new ProviderError('fake.stt', 'HTTP 401: Incorrect API key provided: sk-abcdefgh12345678', { retryable: false, status: 401 }) });
    await expect(new ResilientStt(inner, opts({ logger })).transcribe(utterance(), { signal: signal() })).rejects.toThrow(ProviderError);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ capability: 'stt', provider: 'fake.stt', kind: 'http_4xx', willRetry: false });
    expect(lines[0]).not.toContain('abcdefgh12345678');
  });
});

describe('ResilientTts', () => {
  it('retries before the first audio and then streams the retry', async () => {
    const metrics = testMetrics();
    const inner = new FakeTts({ failWith: (i) => (i === 0 ? fakeOutage('fake.tts', 429) : undefined) });
    const tts = new ResilientTts(inner, opts({ metrics }));
    const chunks = await collect(tts.synthesize('Hello there', { language: 'en', signal: signal() }));
    expect(chunks.reduce((n, c) => n + c.data.length, 0)).toBe(inner.bytesFor('Hello there'));
    expect(inner.calls).toHaveLength(2);
    expect(await counterValue(metrics.providerErrors, { capability: 'tts', provider: 'fake.tts', kind: 'http_429' })).toBe(1);
  });

  it('does not retry once audio has been yielded', async () => {
    let calls = 0;
    const flaky: TtsProvider = {
      id: 'flaky.tts',
      async *synthesize() {
        calls++;
        yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(160) } satisfies AudioChunk;
        throw fakeOutage('flaky.tts');
      },
    };
    const { items, error } = await collectUntilError(new ResilientTts(flaky, opts({ retry: { maxRetries: 3, baseDelayMs: 1 } })).synthesize('x', { language: 'en', signal: signal() }));
    expect(items).toHaveLength(1);
    expect(error).toMatchObject({ status: 503 });
    expect(calls).toBe(1);
  });

  it('times out until the first non-empty audio chunk only', async () => {
    const metrics = testMetrics();
    let aborted = false;
    const stalls: TtsProvider = {
      id: 'stall.tts',
      async *synthesize(_t, o) {
        o.signal.addEventListener('abort', () => { aborted = true; });
        yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(0) }; // not audio yet
        await new Promise(() => {}); // stalls, ignores the abort
      },
    };
    const { error } = await collectUntilError(new ResilientTts(stalls, opts({ timeoutMs: 20, metrics, retry: { maxRetries: 0 } })).synthesize('x', { language: 'en', signal: signal() }));
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect((error as Error).message).toBe('stall.tts: first audio timed out after 20 ms');
    expect(aborted).toBe(true);
    expect(await counterValue(metrics.providerErrors, { capability: 'tts', provider: 'stall.tts', kind: 'timeout' })).toBe(1);

    // Slow chunks after the first one are fine: the timeout only covers the first audio.
    const slowTail = new FakeTts({ chunkMs: 20, interChunkMs: 15 });
    const chunks = await collect(new ResilientTts(slowTail, opts({ timeoutMs: 10 })).synthesize('Hi', { language: 'en', signal: signal() }));
    expect(chunks.length).toBeGreaterThan(2);
  });

  it("passes the caller's abort through mid-stream without retrying or counting", async () => {
    const metrics = testMetrics();
    const inner = new FakeTts({ interChunkMs: 5 });
    const ac = new AbortController();
    const reason = new Error('barge-in');
    const it = new ResilientTts(inner, opts({ metrics })).synthesize('A long sentence to speak.', { language: 'en', signal: ac.signal });
    let n = 0;
    const err = await (async () => {
      for await (const _ of it) if (++n === 2) ac.abort(reason);
    })().catch((e) => e);
    expect(err).toBe(reason);
    expect(inner.calls).toHaveLength(1);
    expect(await counterTotal(metrics.providerErrors)).toBe(0);
  });

  it('closes the inner stream when the consumer stops early', async () => {
    let finished = false;
    const endless: TtsProvider = {
      id: 'endless.tts',
      async *synthesize() {
        try {
          for (;;) yield { encoding: 'mulaw', sampleRate: 8000, data: new Uint8Array(160) };
        } finally {
          finished = true;
        }
      },
    };
    for await (const _ of new ResilientTts(endless, opts()).synthesize('x', { language: 'en', signal: signal() })) break;
    expect(finished).toBe(true);
  });
});

describe('ResilientLlm', () => {
  it('times out before the first token and retries', async () => {
    const metrics = testMetrics();
    const inner = new FakeLlm({ replies: ['hello'] });
    let call = 0;
    const slowFirst = { id: inner.id, chat: (req: Parameters<FakeLlm['chat']>[0], s: AbortSignal) => (call++ === 0 ? new FakeLlm({ firstTokenMs: 5000 }).chat(req, s) : inner.chat(req, s)) };
    const llm = new ResilientLlm(slowFirst, opts({ timeoutMs: 20, metrics }));
    const deltas = await collect(llm.chat({ system: '', messages: [{ role: 'user', content: 'hi' }], passages: [], language: 'en', intents: [] }, signal()));
    expect(deltas.map((d) => (d.type === 'text' ? d.text : '')).join('')).toBe('hello');
    expect(call).toBe(2);
    expect(await counterValue(metrics.providerErrors, { capability: 'llm', provider: 'fake.llm', kind: 'timeout' })).toBe(1);
  });

  it('does not time out slow tokens after the first one', async () => {
    const llm = new ResilientLlm(new FakeLlm({ replies: ['one two three'], perTokenMs: 30 }), opts({ timeoutMs: 10, retry: { maxRetries: 0 } }));
    const deltas = await collect(llm.chat({ system: '', messages: [], passages: [], language: 'en', intents: [] }, signal()));
    expect(deltas.filter((d) => d.type === 'text')).toHaveLength(3);
  });
});

describe('ResilientEmbedder and ResilientVectorStore', () => {
  it('times out a slow embedding call and retries a retryable one', async () => {
    const metrics = testMetrics();
    let calls = 0;
    const slow: Embedder = { id: 'slow.embed', dimensions: 3, embed: () => { calls++; return new Promise(() => {}); } };
    const e = new ResilientEmbedder(slow, opts({ timeoutMs: 15, metrics }));
    expect(e.dimensions).toBe(3);
    await expect(e.embed(['a'])).rejects.toThrow('slow.embed: embedding timed out after 15 ms');
    expect(calls).toBe(2);
    expect(await counterValue(metrics.providerErrors, { capability: 'embeddings', provider: 'slow.embed', kind: 'timeout' })).toBe(2);
  });

  it('retries vector-store calls on retryable errors only', async () => {
    const metrics = testMetrics();
    let queries = 0;
    let deletes = 0;
    const store: VectorStore = {
      id: 'flaky.vec',
      upsert: async () => {},
      query: async () => { if (queries++ === 0) throw fakeOutage('flaky.vec', 500); return [{ id: 'a', score: 1, metadata: {} }]; },
      deleteByFilter: async () => { deletes++; throw badRequest('flaky.vec'); },
    };
    const v = new ResilientVectorStore(store, opts({ metrics }));
    await expect(v.query('ns', new Float32Array(3), 1)).resolves.toHaveLength(1);
    await expect(v.deleteByFilter('ns', { documentId: 'd' })).rejects.toMatchObject({ status: 400 });
    expect([queries, deletes]).toEqual([2, 1]);
    expect(await counterValue(metrics.providerErrors, { capability: 'vector', provider: 'flaky.vec', kind: 'http_5xx' })).toBe(1);
    expect(await counterValue(metrics.providerErrors, { capability: 'vector', provider: 'flaky.vec', kind: 'http_4xx' })).toBe(1);
  });
});
