import type { Knex } from 'knex';
import { MeteredLlm } from '../../../src/providers/metered';
import pino from 'pino';
import { loadConfig } from '../../../src/config';
import { buildProviders } from '../../../src/providers/registry';
import { agentChain, ChainCache } from '../../../src/providers/chains';
import { CircuitOpenError, FallbackLlm, FallbackStt, ProviderTimeoutError, ResilientLlm, ResilientStt, type ProviderBreaker } from '../../../src/providers/resilience';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { collect, testMetrics, utterance } from './helpers';

const logger = pino({ level: 'silent' });
const db = {} as Knex; // construction never queries
const build = (env: Record<string, string>) => buildProviders(loadConfig({ NODE_ENV: 'test', ...env }), { db, logger, metrics: testMetrics() });
const KEY = { OPENAI_API_KEY: 'sk-test-key-123456' };

describe('agentChain (pure)', () => {
  const usable = (c: string) => c !== 'elevenlabs';
  const server = { primary: 'openai', fallback: ['local'] };

  it("is the server's default chain without a choice, or for the server's own primary", () => {
    expect(agentChain(undefined, server, usable)).toEqual({ kind: 'default' });
    expect(agentChain('openai', server, usable)).toEqual({ kind: 'default' });
  });

  it("puts the choice first, then the server's primary and fallbacks, without repeating the choice", () => {
    expect(agentChain('fake', server, usable)).toEqual({ kind: 'chain', chain: ['fake', 'openai', 'local'] });
    expect(agentChain('local', server, usable)).toEqual({ kind: 'chain', chain: ['local', 'openai'] });
    expect(agentChain('local', { primary: 'openai', fallback: [] }, usable)).toEqual({ kind: 'chain', chain: ['local', 'openai'] });
  });

  it('ignores a choice the server cannot use', () => {
    expect(agentChain('elevenlabs', server, usable)).toEqual({ kind: 'unusable', choice: 'elevenlabs' });
  });
});

describe('ChainCache', () => {
  const parts = () => {
    const made: string[] = [];
    const cache = new ChainCache<string, { id: string; inner?: { id: string }; breaker?: ProviderBreaker; hasFallback?: boolean; chain?: unknown[] }>({
      capability: 'llm',
      make: (c) => (made.push(c), { id: `${c}.llm` }),
      wrap: (p, breaker, hasFallback) => ({ id: p.id, inner: p, breaker, hasFallback }),
      compose: (ps) => ({ id: ps.map((p) => p.id).join('>'), chain: ps }),
      breaker: { options: { failures: 3, halfOpenMs: 1000 }, deps: {} },
    });
    return { cache, made };
  };

  it('builds each provider once, on first use, and caches each chain', () => {
    const { cache, made } = parts();
    expect(made).toEqual([]);
    const ab = cache.chain(['a', 'b']);
    expect(ab.id).toBe('a.llm>b.llm');
    expect(cache.chain(['a', 'b'])).toBe(ab);
    cache.chain(['b', 'a']);
    cache.chain(['b']);
    expect(made).toEqual(['a', 'b']);
    expect(cache.built().map((p) => p.id)).toEqual(['a.llm', 'b.llm']);
    expect(() => cache.chain([])).toThrow(/at least one provider/);
  });

  it('gives every provider ONE breaker, shared by every chain it serves in; only the last of a chain retries timeouts', () => {
    const { cache } = parts();
    const [a1, b1] = cache.chain(['a', 'b']).chain as Array<{ breaker: ProviderBreaker; hasFallback: boolean; inner: unknown }>;
    const [b2, a2] = cache.chain(['b', 'a']).chain as Array<{ breaker: ProviderBreaker; hasFallback: boolean; inner: unknown }>;
    const b3 = cache.chain(['b']) as { breaker: ProviderBreaker; hasFallback: boolean };
    expect(a1.breaker).toBe(a2.breaker);
    expect(b1.breaker).toBe(b2.breaker);
    expect(b1.breaker).toBe(b3.breaker);
    expect(a1.breaker).not.toBe(b1.breaker);
    expect(a1.breaker.provider).toBe('a.llm');
    expect(a1.inner).toBe(a2.inner);
    expect([a1.hasFallback, b1.hasFallback, b2.hasFallback, a2.hasFallback, b3.hasFallback]).toEqual([true, false, true, false, false]);
  });
});

describe('Providers.forAgent', () => {
  it("leaves every capability to the server's defaults without choices, or with the server's own primaries", () => {
    const p = build({});
    expect(p.forAgent({})).toEqual({ ignored: [] });
    expect(p.forAgent({ stt: 'local', tts: 'local', llm: 'local' })).toEqual({ ignored: [] });
  });

  it("builds the agent's chain: its choice, then the server's chain", () => {
    const p = build({ ...KEY, LLM_PROVIDER: 'local', STT_PROVIDER: 'fake', TTS_PROVIDER: 'fake', EMBEDDINGS_PROVIDER: 'local' });
    expect(p.llm.id).toBe('local.responder>openai.chat');
    const s = p.forAgent({ llm: 'fake', stt: 'openai', tts: 'local' });
    expect(s.ignored).toEqual([]);
    expect(s.llm?.id).toBe('fake.llm>local.responder>openai.chat');
    expect(s.stt?.id).toBe('openai.stt>fake.stt');
    expect(s.tts?.id).toBe('local.espeak-ng>fake.tts');
    expect(p.forAgent({ llm: 'openai' }).llm?.id).toBe('openai.chat>local.responder');
    // Cached: the next call of an agent with the same choice gets the same chain.
    expect(p.forAgent({ llm: 'fake' }).llm).toBe(s.llm);
  });

  it('ignores a choice whose API key the server lacks, saying which and why', () => {
    const p = build({});
    expect(p.forAgent({ tts: 'elevenlabs', llm: 'openai', stt: 'fake' })).toEqual({
      stt: expect.objectContaining({ id: 'fake.stt>local.moonshine-base' }),
      ignored: [
        { capability: 'tts', provider: 'elevenlabs', reason: 'ELEVENLABS_API_KEY is not set' },
        { capability: 'llm', provider: 'openai', reason: 'OPENAI_API_KEY is not set' },
      ],
    });
  });

  it("shares each provider's circuit breaker between the server's chain and the agents' chains", async () => {
    const p = build({ STT_PROVIDER: 'fake', STT_FALLBACK: 'none', FAKE_STT_MS: '5000', STT_TIMEOUT_MS: '20', PROVIDER_MAX_RETRIES: '0', BREAKER_FAILURES: '1', BREAKER_HALF_OPEN_MS: '60000' });
    const agentStt = p.forAgent({ stt: 'local' }).stt as FallbackStt;
    const fakeInAgentChain = agentStt.providers[1] as ResilientStt;
    expect(fakeInAgentChain.id).toBe('fake.stt');
    expect(fakeInAgentChain.breaker).toBe((p.stt as ResilientStt).breaker);
    // A timeout on the server's chain opens the breaker: the agent's chain skips that provider too.
    await expect(p.stt.transcribe(utterance(), { signal: new AbortController().signal })).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(fakeInAgentChain.breaker?.state).toBe('open');
    await expect(fakeInAgentChain.transcribe(utterance(), { signal: new AbortController().signal })).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("an agent's LLM chain answers through its own provider and falls back along the server's chain", async () => {
    const p = build({ LLM_PROVIDER: 'local', LLM_FALLBACK: 'none', FAKE_LLM_FIRST_TOKEN_MS: '0' });
    const llm = p.forAgent({ llm: 'fake' }).llm as FallbackLlm;
    expect(((llm.providers[0] as ResilientLlm).inner as MeteredLlm).inner).toBeInstanceOf(FakeLlm);
    const deltas = await collect(llm.chat({ system: '', messages: [{ role: 'user', content: 'hi there' }], passages: [], language: 'en', intents: [] }, new AbortController().signal));
    expect(deltas.map((d) => (d.type === 'text' ? d.text : '')).join('')).toBe('You said: hi there');
  });
});
