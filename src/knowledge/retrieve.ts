import type { Embedder, Filter, Passage, VectorStore } from '../providers/types';
import { agentNamespace } from './ingest';

/** Dependencies of retrieval; injected, never read from env. */
export interface RetrieveDeps {
  embedder: Embedder;
  vectors: VectorStore;
}

/**
 * Retrieves the `k` knowledge passages of `agentId` closest to `query`, best first.
 * `score` is the cosine similarity from the vector store. `opts.language` (ISO 639-1) restricts to documents in
 * that language; `opts.minScore` drops weaker passages. A blank query returns [].
 * @throws RangeError when k is not a positive integer; embedder/vector-store errors (ProviderError) propagate.
 */
export async function retrieve(deps: RetrieveDeps, agentId: string, query: string, k: number, opts: { language?: string; minScore?: number } = {}): Promise<Passage[]> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (!query.trim()) return [];
  const [vector] = await deps.embedder.embed([query]);
  if (!vector.some((x) => x !== 0)) return []; // nothing hashable (e.g. only punctuation)
  const filter: Filter = opts.language ? { language: opts.language } : {};
  const matches = await deps.vectors.query(agentNamespace(agentId), vector, k, filter);
  return matches
    .filter((m) => m.score >= (opts.minScore ?? -Infinity))
    .map((m) => ({ documentId: String(m.metadata.documentId), title: String(m.metadata.title), text: String(m.metadata.text), score: m.score }));
}

/** Class form of {@link retrieve} with the dependencies bound: `retriever.retrieve(agentId, query, k, { language })`. */
export class KnowledgeRetriever {
  constructor(private readonly deps: RetrieveDeps) {}
  /** See {@link retrieve}. */
  retrieve(agentId: string, query: string, k: number, opts: { language?: string; minScore?: number } = {}): Promise<Passage[]> {
    return retrieve(this.deps, agentId, query, k, opts);
  }
}
