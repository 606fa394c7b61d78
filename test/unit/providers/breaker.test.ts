import type { Gauge } from 'prom-client';
import { ProviderError } from '../../../src/providers/errors';
import {
  CircuitOpenError,
  FallbackLlm,
  FallbackStt,
  FallbackTts,
  ProviderBreaker,
  ResilientEmbedder,
  ResilientLlm,
  ResilientStt,
  ResilientTts,
  type ResilienceOptions,
} from '../../../src/providers/resilience';
import type { AudioChunk, ChatRequest, LlmDelta, LlmProvider, SttProvider, TtsProvider } from '../../../src/providers/types';
import { captureLogger, collect, counterValue, testMetrics, utterance } from './helpers';

/**
 * A provider of every capability that either answers at once or hangs until its signal aborts (a dead upstream
 * that accepts the request and never answers). `calls` counts requests that reached it.
 */
class Switch implements SttProvider, TtsProvider, LlmProvider {
  calls = 0;
  constructor(
    readonly id: string,
    public healthy: boolean,
  ) {}

  private async answer(signal: AbortSignal): Promise<void> {
    this.calls++;
    if (this.healthy) return;
    await new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  }

  async transcribe(_audio: unknown, o: { signal: AbortSignal }) {
    await this.answer(o.signal);
    return { text: this.id };
  }

  async *synthesize(_text: string, o: { signal: AbortSignal }): AsyncGenerator<AudioChunk> {
    await this.answer(o.signal);
    yield { encoding: 'mulaw', sampleRate: 8000, data: new TextEncoder().encode(this.id) };
  }

  async *chat(_req: ChatRequest, signal: AbortSignal): AsyncGenerator<LlmDelta> {
    await this.answer(signal);
    yield { type: 'text', text: this.id };
  }
}

const req: ChatRequest = { system: '', messages: [{ role: 'user', content: 'hi' }], passages: [], language: 'en', intents: [] };

/** Each capability's chain of two resilient providers; `run` returns the id of the provider that answered. */
const variants: Array<{ capability: 'stt' | 'tts' | 'llm'; chain: (a: Switch, b: Switch, r: ResilienceOptions) => (signal: AbortSignal) => Promise<string> }> = [
  {
    capability: 'tts',
    chain: (a, b, r) => {
      const tts = new FallbackTts([new ResilientTts(a, r), new ResilientTts(b, r)]);
      return async (signal) => new TextDecoder().decode((await collect(tts.synthesize('Hello', { language: 'en', signal })))[0].data);
    },
  },
  {
    capability: 'stt',
    chain: (a, b, r) => {
      const stt = new FallbackStt([new ResilientStt(a, r), new ResilientStt(b, r)]);
      return async (signal) => (await stt.transcribe(utterance(), { signal })).text;
    },
  },
  {
    capability: 'llm',
    chain: (a, b, r) => {
      const llm = new FallbackLlm([new ResilientLlm(a, r), new ResilientLlm(b, r)]);
      return async (signal) => (await collect(llm.chat(req, signal))).map((d) => (d.type === 'text' ? d.text : '')).join('');
    },
  },
];

async function gauge(g: Gauge<'capability' | 'provider'>, labels: { capability: string; provider: string }): Promise<number | undefined> {
  const { values } = await g.get();
  return values.find((v) => v.labels.capability === labels.capability && v.labels.provider === labels.provider)?.value;
}

/** Tracks whether a promise has settled, for checks against the fake clock. */
function track<T>(p: Promise<T>) {
  const t = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then((v) => { t.settled = true; t.value = v; }, (e) => { t.settled = true; t.error = e; });
  return t;
}

const TIMEOUT = 1000;
const HALF_OPEN = 5000;

describe.each(variants)('circuit breaker: $capability primary that hangs, with a fallback', ({ capability, chain }) => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('pays ONE timeout, which opens the breaker, then skips the primary at once; probes after halfOpenAfter; closes on success', async () => {
    const metrics = testMetrics();
    const { logger, lines } = captureLogger();
    const r: ResilienceOptions = { timeoutMs: TIMEOUT, retry: { maxRetries: 1, retryTimeouts: false }, breaker: { failures: 2, halfOpenMs: HALF_OPEN }, metrics, logger };
    const cloud = new Switch('cloud', false);
    const local = new Switch('local', true);
    const run = chain(cloud, local, r);
    const labels = { capability, provider: 'cloud' };
    expect(await gauge(metrics.providerCircuitState, labels)).toBe(0);

    // The first call pays one timeout (no retry of a timeout when a fallback follows), and that timeout opens the
    // circuit at once, although `failures` is 2: a hung vendor costs one timeout, not one per turn.
    const first = track(run(new AbortController().signal));
    await jest.advanceTimersByTimeAsync(TIMEOUT - 1);
    expect(first.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(first).toMatchObject({ settled: true, value: 'local' });
    expect(cloud.calls).toBe(1);
    expect(await gauge(metrics.providerCircuitState, labels)).toBe(2);

    // Open: later requests (this call's and other calls') go straight to the fallback, without any time passing.
    const skipped = [1, 2, 3].map(() => track(run(new AbortController().signal)));
    await jest.advanceTimersByTimeAsync(0);
    expect(skipped.map((t) => t.value)).toEqual(['local', 'local', 'local']);
    expect(cloud.calls).toBe(1);

    // After halfOpenAfter one probe goes to the primary; requests during the probe are skipped, not held.
    await jest.advanceTimersByTimeAsync(HALF_OPEN);
    const probe = track(run(new AbortController().signal));
    await jest.advanceTimersByTimeAsync(0);
    expect(cloud.calls).toBe(2);
    expect(await gauge(metrics.providerCircuitState, labels)).toBe(1);
    const during = track(run(new AbortController().signal));
    await jest.advanceTimersByTimeAsync(0);
    expect(during).toMatchObject({ settled: true, value: 'local' });
    expect(cloud.calls).toBe(2);
    // The probe times out: open again.
    await jest.advanceTimersByTimeAsync(TIMEOUT);
    expect(probe).toMatchObject({ settled: true, value: 'local' });
    expect(await gauge(metrics.providerCircuitState, labels)).toBe(2);
    expect(track(run(new AbortController().signal))).toBeDefined();
    await jest.advanceTimersByTimeAsync(0);
    expect(cloud.calls).toBe(2);

    // The primary recovers: the next probe succeeds and closes the circuit.
    cloud.healthy = true;
    await jest.advanceTimersByTimeAsync(HALF_OPEN);
    await expect(run(new AbortController().signal)).resolves.toBe('cloud');
    expect(await gauge(metrics.providerCircuitState, labels)).toBe(0);
    await expect(run(new AbortController().signal)).resolves.toBe('cloud');
    expect(cloud.calls).toBe(4);

    // Attempts are counted, skips are not; each state change is logged once at warn.
    expect(await counterValue(metrics.providerErrors, { capability, provider: 'cloud', kind: 'timeout' })).toBe(2);
    const logs = lines.map((l) => JSON.parse(l));
    const changes = logs.filter((l) => /^provider circuit/.test(l.msg) && l.level === 40).map((l) => l.state);
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(logs.filter((l) => l.msg === 'provider call failed')).toHaveLength(2);
    expect(logs.find((l) => l.state === 'open')).toMatchObject({ capability, provider: 'cloud', kind: 'timeout' });
  });
});

describe('ProviderBreaker', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const outage = () => new ProviderError('p', 'HTTP 503', { retryable: true, status: 503 });

  it("never counts the caller's abort, and an aborted probe lets the next call probe at once", async () => {
    const metrics = testMetrics();
    const b = new ProviderBreaker('stt', 'p', { failures: 1, halfOpenMs: HALF_OPEN }, { metrics });
    const aborted = new AbortController();
    const reason = new Error('hangup');
    aborted.abort(reason);
    // Closed: an abort rejects with its reason and does not open the circuit (1 failure would).
    await expect(b.call(aborted.signal, () => Promise.reject(reason))).rejects.toBe(reason);
    expect(b.state).toBe('closed');
    await expect(b.call(undefined, () => Promise.reject(outage()))).rejects.toMatchObject({ status: 503 });
    expect(b.state).toBe('open');
    await expect(b.call(undefined, () => Promise.resolve(1))).rejects.toBeInstanceOf(CircuitOpenError);
    await jest.advanceTimersByTimeAsync(HALF_OPEN);
    // The probe is aborted by its caller: proves nothing, so the next call (no waiting) is the probe.
    await expect(b.call(aborted.signal, () => Promise.reject(reason))).rejects.toBe(reason);
    expect(b.state).toBe('open');
    let ran = 0;
    await expect(b.call(undefined, async () => ++ran)).resolves.toBe(1);
    expect(b.state).toBe('closed');
    expect(await gauge(metrics.providerCircuitState, { capability: 'stt', provider: 'p' })).toBe(0);
  });

  it('counts timeouts, 5xx/429 and 401/403, not a 400 or our own bugs', async () => {
    const b = new ProviderBreaker('llm', 'p', { failures: 2, halfOpenMs: HALF_OPEN });
    const fail = (e: unknown) => b.call(undefined, () => Promise.reject(e)).catch(() => undefined);
    await fail(new ProviderError('p', 'HTTP 400', { retryable: false, status: 400 }));
    await fail(new TypeError('bug'));
    await fail(new ProviderError('p', 'HTTP 400', { retryable: false, status: 400 }));
    expect(b.state).toBe('closed');
    await fail(new ProviderError('p', 'HTTP 401', { retryable: false, status: 401 }));
    await fail(outage());
    expect(b.state).toBe('open');
  });

  it('a success resets the consecutive count', async () => {
    const b = new ProviderBreaker('tts', 'p', { failures: 2, halfOpenMs: HALF_OPEN });
    for (let i = 0; i < 3; i++) {
      await b.call(undefined, () => Promise.reject(outage())).catch(() => undefined);
      await b.call(undefined, () => Promise.resolve());
    }
    expect(b.state).toBe('closed');
  });

  it('fails fast in a resilient embedder without a fallback: the open circuit rejects without calling it', async () => {
    let calls = 0;
    const e = new ResilientEmbedder(
      { id: 'emb', dimensions: 1, embed: async () => { calls++; throw outage(); } },
      { timeoutMs: TIMEOUT, retry: { maxRetries: 0 }, breaker: { failures: 2, halfOpenMs: HALF_OPEN } },
    );
    await expect(e.embed(['a'])).rejects.toMatchObject({ status: 503 });
    await expect(e.embed(['a'])).rejects.toMatchObject({ status: 503 });
    await expect(e.embed(['a'])).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(2);
    expect(e.breaker?.state).toBe('open');
  });

  it('rejects bad settings', () => {
    expect(() => new ProviderBreaker('stt', 'p', { failures: 0, halfOpenMs: 1 })).toThrow(RangeError);
    expect(() => new ProviderBreaker('stt', 'p', { failures: 1, halfOpenMs: -1 })).toThrow(RangeError);
  });
});
