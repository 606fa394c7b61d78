import { ResilientEmbedder, ResilientVectorStore } from '../../../src/providers/resilience/resilient';
import type { Embedder, VectorStore } from '../../../src/providers/types';
import { realProcess } from '../../integration/telephony/real-process';

/**
 * Embedders and vector stores take no AbortSignal, so their Resilient wrappers time calls out against one shared,
 * never-aborting signal; each call in flight holds one 'abort' listener on it until it settles. Eleven concurrent
 * retrievals (any busy server) used to trip Node's MaxListenersExceededWarning ("11 abort listeners added to
 * [AbortSignal]"), which reads like a leak but is not one.
 */
describe('Resilient embedder / vector store under concurrency', () => {
  it('many concurrent calls raise no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    const proc = realProcess(); // Jest's sandboxed `process` never sees warnings
    proc.on('warning', onWarning);
    try {
      const slow = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 20));
      const embedder: Embedder = { id: 'slow-embed', dimensions: 2, embed: (t) => slow(t.map(() => new Float32Array(2))) };
      const vectors = { id: 'slow-vectors', upsert: () => slow(undefined), query: () => slow([]), deleteByFilter: () => slow(undefined) } as unknown as VectorStore;
      const o = { timeoutMs: 1000, retry: { maxRetries: 0 } } as ConstructorParameters<typeof ResilientEmbedder>[1];
      const e = new ResilientEmbedder(embedder, o);
      const v = new ResilientVectorStore(vectors, o);
      for (let round = 0; round < 2; round++) {
        await Promise.all([...Array.from({ length: 30 }, () => e.embed(['x'])), ...Array.from({ length: 30 }, () => v.query('ns', new Float32Array(2), 3))]);
      }
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings).toEqual([]);
    } finally {
      proc.off('warning', onWarning);
    }
  });
});
