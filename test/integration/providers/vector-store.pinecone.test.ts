import { ProviderError } from '../../../src/providers/errors';
import { PineconeVectorStore, type PineconeVectorStoreOptions } from '../../../src/providers/vector/pinecone';
import { vectorStoreConformance } from '../db/vector-store.conformance';
import { startPineconeDouble, type PineconeDouble, type PineconeRequest } from '../../doubles/pinecone-double';

/** The shared VectorStore conformance suite and a wire contract test: the real Pinecone SDK against the double. */

const KEY = 'pc-test-key-41d7e2';

vectorStoreConformance('pinecone (SDK v8 → local double)', async () => {
  const pine = await startPineconeDouble({ apiKey: KEY });
  return { store: new PineconeVectorStore({ apiKey: KEY, indexHost: pine.host }), close: () => pine.close() };
});

describe('PineconeVectorStore wire contract', () => {
  let pine: PineconeDouble;
  beforeAll(async () => {
    pine = await startPineconeDouble({ apiKey: KEY }); // one index, 3 dimensions (fixed by the first upsert)
  });
  afterAll(() => pine.close());

  const store = (o: Partial<PineconeVectorStoreOptions> = {}) => new PineconeVectorStore({ apiKey: KEY, indexHost: pine.host, ...o });
  const v = (...xs: number[]) => Float32Array.from(xs);
  const since = (n: number): PineconeRequest[] => pine.requests.slice(n);
  const failure = async (p: Promise<unknown>): Promise<ProviderError> => {
    const err = await p.then(() => { throw new Error('expected a failure'); }, (e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  };

  function expectHeaders(r: PineconeRequest): void {
    expect(r.headers['api-key']).toBe(KEY);
    expect(r.headers['x-pinecone-api-version']).toMatch(/^\d{4}-\d{2}$/);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
  }

  it('upsert: POST /vectors/upsert with the namespace, float values and metadata (none when empty)', async () => {
    const n = pine.requests.length;
    await store().upsert('agent-a', [
      { id: 'doc1:0', values: v(0.6, 0.8, 0), metadata: { documentId: 'doc1', ord: 0, live: true } },
      { id: 'doc1:1', values: v(0.1, 0.2, 0.3), metadata: {} },
    ]);
    const [r, ...rest] = since(n);
    expect(rest).toEqual([]);
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/vectors/upsert');
    expectHeaders(r);
    expect(r.body.namespace).toBe('agent-a');
    expect(r.body.vectors).toHaveLength(2);
    expect(r.body.vectors[0]).toEqual({ id: 'doc1:0', values: expect.any(Array), metadata: { documentId: 'doc1', ord: 0, live: true } });
    expect(r.body.vectors[1]).not.toHaveProperty('metadata');
    // float32 values survive exactly
    expect(Float32Array.from(r.body.vectors[1].values)).toEqual(v(0.1, 0.2, 0.3));
    expect(pine.vectors('agent-a').map((x) => x.id)).toEqual(['doc1:0', 'doc1:1']);
  });

  it('upsert splits large inputs into requests of at most 100 vectors, any dimension', async () => {
    const dim = 384;
    const big = await startPineconeDouble({ apiKey: KEY });
    try {
      const items = Array.from({ length: 250 }, (_, i) => ({ id: `c${i}`, values: Float32Array.from({ length: dim }, (_, j) => Math.sin(i + j)), metadata: { i } }));
      await new PineconeVectorStore({ apiKey: KEY, indexHost: big.host }).upsert('agent-big', items);
      expect(big.requests.map((r) => r.body.vectors.length)).toEqual([100, 100, 50]);
      expect(big.vectors('agent-big')).toHaveLength(250);
      expect(big.vectors('agent-big')[0].values).toHaveLength(dim);
    } finally {
      await big.close();
    }
  });

  it('upsert keeps 1536-dim batches under Pinecone’s 2 MB request limit', async () => {
    const big = await startPineconeDouble({ apiKey: KEY });
    try {
      const items = Array.from({ length: 120 }, (_, i) => ({ id: `o${i}`, values: Float32Array.from({ length: 1536 }, (_, j) => Math.cos(i * 7 + j) / 39.2), metadata: { text: 'x'.repeat(2000) } }));
      await new PineconeVectorStore({ apiKey: KEY, indexHost: big.host }).upsert('agent-1536', items);
      expect(big.requests.every((r) => r.status === 200)).toBe(true);
      // 100 such records (≈ 23 kB of JSON each) would exceed 2 MB: batches are cut by size, not only by count.
      expect(big.requests[0].body.vectors.length).toBeLessThan(100);
      expect(big.requests.reduce((s, r) => s + r.body.vectors.length, 0)).toBe(120);
      expect(big.vectors('agent-1536')).toHaveLength(120);
    } finally {
      await big.close();
    }
  });

  it('query: POST /query with vector, topK, includeMetadata and an $eq filter; maps matches', async () => {
    await store().upsert('agent-q', [
      { id: 'a', values: v(1, 0, 0), metadata: { documentId: 'd1', lang: 'en' } },
      { id: 'b', values: v(0, 1, 0), metadata: { documentId: 'd2', lang: 'en' } },
    ]);
    const n = pine.requests.length;
    const got = await store().query('agent-q', v(1, 0, 0), 3, { lang: 'en' });
    const [r] = since(n);
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/query');
    expectHeaders(r);
    expect(r.body).toEqual({ namespace: 'agent-q', vector: [1, 0, 0], topK: 3, includeMetadata: true, includeValues: false, filter: { lang: { $eq: 'en' } } });
    expect(got.map((m) => m.id)).toEqual(['a', 'b']);
    expect(got[0]).toEqual({ id: 'a', score: expect.closeTo(1, 6), metadata: { documentId: 'd1', lang: 'en' } });
  });

  it('several filter fields become $and of $eq clauses; no filter sends none', async () => {
    const n = pine.requests.length;
    await store().query('agent-q', v(1, 0, 0), 2, { documentId: 'd2', lang: 'en', ord: 3, live: false });
    await store().query('agent-q', v(1, 0, 0), 2);
    await store().query('agent-q', v(1, 0, 0), 2, {});
    const [a, b, c] = since(n);
    expect(a.body.filter).toEqual({ $and: [{ documentId: { $eq: 'd2' } }, { lang: { $eq: 'en' } }, { ord: { $eq: 3 } }, { live: { $eq: false } }] });
    expect(b.body).not.toHaveProperty('filter');
    expect(c.body).not.toHaveProperty('filter');
  });

  it('deleteByFilter: POST /vectors/delete with namespace and filter', async () => {
    await store().upsert('agent-d', [
      { id: 'x1', values: v(1, 0, 0), metadata: { documentId: 'x' } },
      { id: 'y1', values: v(0, 1, 0), metadata: { documentId: 'y' } },
    ]);
    const n = pine.requests.length;
    await store().deleteByFilter('agent-d', { documentId: 'x' });
    const [r] = since(n);
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/vectors/delete');
    expectHeaders(r);
    expect(r.body).toEqual({ namespace: 'agent-d', filter: { documentId: { $eq: 'x' } } });
    expect(pine.vectors('agent-d').map((x) => x.id)).toEqual(['y1']);
  });

  it.each([429, 500, 503])('maps HTTP %i to a retryable ProviderError with the status, without SDK retries', async (status) => {
    pine.script({ kind: 'status', status });
    const n = pine.requests.length;
    const err = await failure(store().query('agent-q', v(1, 0, 0), 1));
    expect(err).toMatchObject({ provider: 'pinecone', retryable: true, status });
    expect(since(n)).toHaveLength(1);
  });

  it.each([400, 404, 422])('maps HTTP %i to a non-retryable ProviderError', async (status) => {
    pine.script({ kind: 'status', status }, 1, '/vectors/upsert');
    const err = await failure(store().upsert('agent-e', [{ id: 'e', values: v(1, 0, 0), metadata: {} }]));
    expect(err).toMatchObject({ retryable: false, status });
  });

  it('maps a rejected key (401) to a non-retryable ProviderError that does not reveal the key', async () => {
    const wrong = 'pc-wrong-key-9999';
    const err = await failure(new PineconeVectorStore({ apiKey: wrong, indexHost: pine.host }).query('agent-q', v(1, 0, 0), 1));
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect(err.message).not.toContain(wrong);
    expect(pine.requests[pine.requests.length - 1].headers['api-key']).toBe(wrong);
  });

  it('maps a dimension mismatch (400 from the index) to a non-retryable ProviderError', async () => {
    const err = await failure(store().query('agent-q', v(1, 0, 0, 0), 1));
    expect(err).toMatchObject({ retryable: false, status: 400 });
    expect(err.message).toMatch(/dimension/);
  });

  it('maps a malformed 200 body to a retryable ProviderError', async () => {
    pine.script({ kind: 'raw', status: 200, body: '<html>gateway</html>' }, 1, '/query');
    const err = await failure(store().query('agent-q', v(1, 0, 0), 1));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/malformed/);
  });

  it('times out a hanging request with a retryable ProviderError', async () => {
    pine.script({ kind: 'hang' });
    const err = await failure(store({ timeoutMs: 150 }).query('agent-q', v(1, 0, 0), 1));
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/timed out/);
  });

  it("aborts the HTTP request on the caller's signal and rejects at once with its reason", async () => {
    const n = pine.requests.length;
    pine.script({ kind: 'hang' });
    const ac = new AbortController();
    const p = store({ timeoutMs: 30_000 }).query('agent-q', v(1, 0, 0), 1, undefined, { signal: ac.signal });
    while (pine.requests.length === n) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('caller hung up');
    ac.abort(reason);
    // Bounded so that code ignoring the signal fails instead of hanging for the 30 s timeout.
    await expect(Promise.race([p, new Promise((r) => setTimeout(r, 1000, 'still waiting'))])).rejects.toBe(reason);
    const r = pine.requests[n];
    expect(r.path).toBe('/query');
    while (!r.clientClosed) await new Promise((res) => setTimeout(res, 5)); // the double saw the connection close
    const before = pine.requests.length;
    await expect(store().query('agent-q', v(1, 0, 0), 1, undefined, { signal: ac.signal })).rejects.toBe(reason); // already aborted: no request
    expect(pine.requests.length).toBe(before);
  });

  it('maps a refused connection to a retryable ProviderError', async () => {
    const gone = await startPineconeDouble();
    const host = gone.host;
    await gone.close();
    const err = await failure(new PineconeVectorStore({ apiKey: KEY, indexHost: host }).query('agent-q', v(1, 0, 0), 1));
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
  });

  it('rejects bad input with non-retryable ProviderErrors before any request', async () => {
    const n = pine.requests.length;
    const s = store();
    const bad = [
      s.upsert('', [{ id: 'a', values: v(1), metadata: {} }]),
      s.upsert('ns', [{ id: '', values: v(1), metadata: {} }]),
      s.upsert('ns', [{ id: 'a', values: v(Number.NaN), metadata: {} }]),
      s.upsert('ns', [{ id: 'a', values: new Float32Array(0), metadata: {} }]),
      s.upsert('ns', [{ id: 'a', values: v(1, 0), metadata: {} }, { id: 'b', values: v(1, 0, 0), metadata: {} }]),
      s.upsert('ns', [{ id: 'a', values: v(1), metadata: {} }, { id: 'a', values: v(1), metadata: {} }]),
      s.upsert('ns', [{ id: 'a', values: v(1), metadata: { nested: { x: 1 } as never } }]),
      s.query('ns', v(1), 0),
      s.query('ns', v(1), 1, { $or: 'x' } as never),
      s.deleteByFilter('ns', {}),
    ];
    for (const p of bad) await expect(p).rejects.toMatchObject({ name: 'ProviderError', retryable: false });
    expect(pine.requests.length).toBe(n);
  });

  it('rejects bad configuration at construction', () => {
    expect(() => new PineconeVectorStore({ apiKey: '', indexHost: pine.host })).toThrow(/apiKey/);
    expect(() => new PineconeVectorStore({ apiKey: KEY, indexHost: '' })).toThrow(/indexHost/);
    expect(() => store({ upsertBatchSize: 5000 })).toThrow(/upsertBatchSize/);
  });
});
