import { ProviderError } from '../../../src/providers/errors';
import { OpenAiEmbedder } from '../../../src/providers/embeddings/openai';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';
import { pseudoEmbedding } from '../../doubles/openai-wire';
import { ResilientEmbedder, ResilientVectorStore } from '../../../src/providers/resilience';
import { retrieve } from '../../../src/knowledge/retrieve';
import { counterTotal, testMetrics } from '../../unit/providers/helpers';

let openai: OpenAiDouble;

beforeAll(async () => {
  openai = await startOpenAiDouble();
});
afterAll(() => openai.close());
beforeEach(() => openai.reset());

const embedder = (o: { dimensions?: number; timeoutMs?: number; apiKey?: string } = {}) =>
  new OpenAiEmbedder({ apiKey: o.apiKey ?? openai.apiKey, baseURL: openai.baseURL, timeoutMs: o.timeoutMs ?? 5000, dimensions: o.dimensions });

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0));
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('OpenAiEmbedder against the OpenAI double', () => {
  it('posts model/input/encoding_format and returns 1536-d unit vectors in input order', async () => {
    const texts = ['What time do you open?', 'Returns are accepted within 30 days.', 'Hola'];
    const out = await embedder().embed(texts);
    expect(out).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(out[i]).toBeInstanceOf(Float32Array);
      expect(out[i].length).toBe(1536);
      expect(norm(out[i])).toBeCloseTo(1, 5);
      expect(cosine(out[i], pseudoEmbedding(texts[i], 1536))).toBeCloseTo(1, 5);
    }
    const req = openai.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/embeddings');
    expect(req.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(req.body).toEqual({ model: 'text-embedding-3-small', input: texts, encoding_format: 'float' });
  });

  it('sorts by `index` when the server sends data out of order, and L2-normalises raw vectors', async () => {
    const raw = [
      [3, 4, 0, 0],
      [0, 0, 5, 0],
      [1, 1, 1, 1],
    ];
    openai.script('embeddings', { kind: 'embeddings', vectors: raw, reverseOrder: true });
    const out = await embedder({ dimensions: 4 }).embed(['a', 'b', 'c']);
    expect(openai.requests[0].body.dimensions).toBe(4);
    expect(out.map((v) => Array.from(v))).toEqual([
      [0.6000000238418579, 0.800000011920929, 0, 0],
      [0, 0, 1, 0],
      [0.5, 0.5, 0.5, 0.5],
    ]);
  });

  it('splits more than 2048 inputs into batches of ≤ 2048 and keeps the order', async () => {
    const texts = Array.from({ length: 2050 }, (_, i) => `text number ${i}`);
    const out = await embedder({ dimensions: 8 }).embed(texts);
    expect(openai.requests.map((r) => r.body.input.length)).toEqual([2048, 2]);
    expect(openai.requests[1].body.input).toEqual(['text number 2048', 'text number 2049']);
    expect(out).toHaveLength(2050);
    for (const i of [0, 1, 2047, 2048, 2049]) expect(cosine(out[i], pseudoEmbedding(texts[i], 8))).toBeCloseTo(1, 5);
  });

  it('does not send empty texts (the API rejects them) and gives them the zero vector', async () => {
    const out = await embedder({ dimensions: 8 }).embed(['hello', '  ', 'world']);
    expect(openai.requests[0].body.input).toEqual(['hello', 'world']);
    expect(Array.from(out[1])).toEqual(new Array(8).fill(0));
    expect(cosine(out[2], pseudoEmbedding('world', 8))).toBeCloseTo(1, 5);
    expect(await embedder().embed([])).toEqual([]);
    expect(openai.requests).toHaveLength(1);
  });

  it('429 → retryable with status; 401 → not retryable; 404 model → not retryable', async () => {
    openai.script('embeddings', { kind: 'error', status: 429, retryAfterS: 3 });
    expect(await rejection(embedder().embed(['x']))).toMatchObject({ name: 'ProviderError', provider: 'openai.embeddings', retryable: true, status: 429 });
    expect(await rejection(embedder({ apiKey: 'sk-bad-000000000000' }).embed(['x']))).toMatchObject({ retryable: false, status: 401 });
    const wrongModel = new OpenAiEmbedder({ apiKey: openai.apiKey, baseURL: openai.baseURL, timeoutMs: 5000, model: 'text-embedding-9', dimensions: 8 });
    expect(await rejection(wrongModel.embed(['x']))).toMatchObject({ retryable: false, status: 404 });
  });

  it('timeout, malformed JSON and a wrong vector size → ProviderError', async () => {
    openai.script('embeddings', { kind: 'hang' }, { kind: 'malformed' }, { kind: 'embeddings', vectors: [[1, 2, 3]] });
    const timeout = await rejection(embedder({ timeoutMs: 300 }).embed(['x']));
    expect(timeout).toBeInstanceOf(ProviderError);
    expect(timeout).toMatchObject({ retryable: true, status: undefined });
    expect(await rejection(embedder().embed(['x']))).toMatchObject({ name: 'ProviderError', retryable: false });
    expect(await rejection(embedder({ dimensions: 8 }).embed(['x']))).toMatchObject({ name: 'ProviderError', retryable: false, message: expect.stringMatching(/3 dimensions, expected 8/) });
  });

  it('rejects a missing size or an out-of-range batch size at construction', () => {
    expect(() => new OpenAiEmbedder({ apiKey: 'k', timeoutMs: 1000, model: 'my-own-model' })).toThrow(/dimensions/);
    expect(() => new OpenAiEmbedder({ apiKey: 'k', timeoutMs: 1000, batchSize: 4096 })).toThrow(/batchSize/);
    expect(new OpenAiEmbedder({ apiKey: 'k', timeoutMs: 1000, model: 'text-embedding-3-large' }).dimensions).toBe(3072);
  });

  it("aborts the HTTP request on the caller's signal and rejects at once with its reason", async () => {
    openai.script('embeddings', { kind: 'hang' });
    const ac = new AbortController();
    const p = embedder({ timeoutMs: 30_000 }).embed(['where is my order'], { signal: ac.signal });
    while (openai.requestsTo('embeddings').length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('caller hung up');
    ac.abort(reason);
    await expect(Promise.race([p, new Promise((r) => setTimeout(r, 1000, 'still waiting'))])).rejects.toBe(reason);
    const [r] = openai.requestsTo('embeddings');
    while (!r.clientClosed) await new Promise((res) => setTimeout(res, 5)); // the double saw the request closed
    await expect(embedder().embed(['x'], { signal: ac.signal })).rejects.toBe(reason); // already aborted: no request
    expect(openai.requestsTo('embeddings')).toHaveLength(1);
  });

  it('retrieval through the resilient wrappers passes the signal down: not retried, not counted', async () => {
    const metrics = testMetrics();
    openai.script('embeddings', { kind: 'hang' }, { kind: 'hang' });
    const r = { timeoutMs: 30_000, retry: { maxRetries: 2, baseDelayMs: 1 }, breaker: { failures: 1, halfOpenMs: 60_000 }, metrics };
    const deps = { embedder: new ResilientEmbedder(embedder({ timeoutMs: 30_000 }), r), vectors: new ResilientVectorStore(new PostgresVectorStoreStub(), r) };
    const ac = new AbortController();
    const p = retrieve(deps, 'agent-1', 'opening hours', 3, { language: 'en', signal: ac.signal });
    while (openai.requestsTo('embeddings').length === 0) await new Promise((res) => setTimeout(res, 5));
    const reason = new Error('barge-in');
    ac.abort(reason);
    await expect(Promise.race([p, new Promise((res) => setTimeout(res, 1000, 'still waiting'))])).rejects.toBe(reason);
    const [req] = openai.requestsTo('embeddings');
    while (!req.clientClosed) await new Promise((res) => setTimeout(res, 5));
    expect(openai.requestsTo('embeddings')).toHaveLength(1); // not retried
    expect(await counterTotal(metrics.providerErrors)).toBe(0); // not counted
    expect(deps.embedder.breaker?.state).toBe('closed'); // and the breaker (1 failure opens it) did not count it
  });
});

/** A vector store that must never be reached in these tests. */
class PostgresVectorStoreStub {
  readonly id = 'unreached';
  upsert(): Promise<void> { throw new Error('unreached'); }
  query(): Promise<never> { throw new Error('unreached'); }
  deleteByFilter(): Promise<void> { throw new Error('unreached'); }
}
