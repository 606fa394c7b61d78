import type { Embedder, Filter, Passage, VectorStore } from '../providers/types';
import { agentNamespace } from './ingest';

/** Dependencies of retrieval; injected, never read from env. */
export interface RetrieveDeps {
  embedder: Embedder;
  vectors: VectorStore;
}

/** Options of {@link retrieve}. */
export interface RetrieveOptions {
  /** ISO 639-1: only documents in that language. */
  language?: string;
  /** Passages scoring below this cosine similarity are dropped. */
  minScore?: number;
  /**
   * The caller's abort (the turn was superseded, the caller hung up): passed to the embedder and the vector store,
   * which cancel their request (HTTP request aborted, PostgreSQL query cancelled); the call rejects with its reason.
   */
  signal?: AbortSignal;
}

/**
 * Retrieves the `k` knowledge passages of `agentId` closest to `query`, best first.
 * `score` is the cosine similarity from the vector store. `opts.language` (ISO 639-1) restricts to documents in
 * that language; `opts.minScore` drops weaker passages; `opts.signal` cancels (see {@link RetrieveOptions}). A
 * blank query returns [].
 * @throws RangeError when k is not a positive integer; embedder/vector-store errors (ProviderError) propagate;
 *   `opts.signal.reason` when aborted.
 */
export async function retrieve(deps: RetrieveDeps, agentId: string, query: string, k: number, opts: RetrieveOptions = {}): Promise<Passage[]> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  opts.signal?.throwIfAborted();
  if (!query.trim()) return [];
  const { signal } = opts;
  const [vector] = await deps.embedder.embed([query], { signal });
  if (!vector.some((x) => x !== 0)) return []; // nothing hashable (e.g. only punctuation)
  const filter: Filter = opts.language ? { language: opts.language } : {};
  const matches = await deps.vectors.query(agentNamespace(agentId), vector, k, filter, { signal });
  return matches
    .filter((m) => m.score >= (opts.minScore ?? -Infinity))
    .map((m) => ({ documentId: String(m.metadata.documentId), title: String(m.metadata.title), text: String(m.metadata.text), score: m.score }));
}

/** Class form of {@link retrieve} with the dependencies bound: `retriever.retrieve(agentId, query, k, { language, signal })`. */
export class KnowledgeRetriever {
  constructor(private readonly deps: RetrieveDeps) {}
  /** See {@link retrieve}. */
  retrieve(agentId: string, query: string, k: number, opts: RetrieveOptions = {}): Promise<Passage[]> {
    return retrieve(this.deps, agentId, query, k, opts);
  }
}
