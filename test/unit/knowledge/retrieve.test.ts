import { KnowledgeRetriever, retrieve } from '../../../src/knowledge/retrieve';
import { LocalHashEmbedder } from '../../../src/providers/embeddings/local-hash';
import type { CallOptions, Embedder, Filter, Match, VectorStore } from '../../../src/providers/types';

/** Records the options each call received. */
function spies() {
  const seen: Array<{ what: string; o?: CallOptions }> = [];
  const inner = new LocalHashEmbedder();
  const embedder: Embedder = { id: 'spy', dimensions: inner.dimensions, embed: (t, o) => (seen.push({ what: 'embed', o }), inner.embed(t)) };
  const vectors: VectorStore = {
    id: 'spy',
    upsert: async () => {},
    deleteByFilter: async () => {},
    query: async (_ns: string, _v: Float32Array, _k: number, filter?: Filter, o?: CallOptions): Promise<Match[]> => {
      seen.push({ what: `query ${JSON.stringify(filter)}`, o });
      return [{ id: 'c1', score: 0.8, metadata: { documentId: 'd1', title: 'Hours', text: 'We open at nine.' } }];
    },
  };
  return { seen, deps: { embedder, vectors } };
}

describe('retrieve with a signal', () => {
  it('passes the signal to the embedder and the vector store, with the language filter', async () => {
    const { seen, deps } = spies();
    const { signal } = new AbortController();
    const got = await new KnowledgeRetriever(deps).retrieve('agent-1', 'when do you open', 3, { language: 'en', signal });
    expect(got).toEqual([{ documentId: 'd1', title: 'Hours', text: 'We open at nine.', score: 0.8 }]);
    expect(seen.map((s) => s.what)).toEqual(['embed', 'query {"language":"en"}']);
    expect(seen.every((s) => s.o?.signal === signal)).toBe(true);
  });

  it('rejects with the reason of an already aborted signal without calling anything', async () => {
    const { seen, deps } = spies();
    const ac = new AbortController();
    const reason = new Error('turn superseded');
    ac.abort(reason);
    await expect(retrieve(deps, 'agent-1', 'when do you open', 3, { signal: ac.signal })).rejects.toBe(reason);
    expect(seen).toEqual([]);
  });
});
