import type { Knex } from 'knex';
import { z } from 'zod';
import type { Embedder, VectorStore } from '../providers/types';
import { KnowledgeRepo, type KnowledgeDocument } from '../db/knowledge';
import { chunkText, type ChunkOptions } from './chunker';

/** The vector-store namespace holding one agent's knowledge. */
export const agentNamespace = (agentId: string): string => `agent:${agentId}`;

/** Dependencies of ingestion; injected, never read from env. */
export interface IngestDeps {
  db: Knex;
  embedder: Embedder;
  vectors: VectorStore;
  chunking?: ChunkOptions;
}

export const ingestInputSchema = z.object({
  agentId: z.string().min(1).max(64),
  title: z.string().trim().min(1).max(300),
  text: z.string().refine((t) => t.trim().length > 0, 'text must not be blank'),
  language: z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code like "en"').default('en'),
});
export type IngestInput = z.input<typeof ingestInputSchema>;

export interface IngestResult {
  document: KnowledgeDocument;
  chunks: number;
}

/** Metadata stored with every chunk vector. */
export interface ChunkMetadata {
  [key: string]: string | number;
  documentId: string;
  agentId: string;
  title: string;
  text: string;
  language: string;
  ord: number;
}

/**
 * Ingests one knowledge document for an agent:
 * upsert the document `(agentId, title)` as `pending` (re-uploading a title replaces the document: same id, old
 * chunks and vectors removed) → chunk ({@link chunkText}) → embed `title + chunk` → upsert vectors into namespace
 * `agent:<agentId>` with {@link ChunkMetadata} (vector id = chunk id `<documentId>:<ord>`) → store chunks → `ready`.
 *
 * @throws ZodError on invalid input (nothing is written). Any later failure (embedder, vector store) marks the
 *   document `failed` with the error message and is rethrown.
 */
export async function ingestDocument(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const d = ingestInputSchema.parse(input);
  const repo = new KnowledgeRepo(deps.db);
  const doc = await repo.upsertPending({ agentId: d.agentId, title: d.title, language: d.language });
  const ns = agentNamespace(d.agentId);
  try {
    await deps.vectors.deleteByFilter(ns, { documentId: doc.id });
    const texts = chunkText(d.text, deps.chunking);
    const vectors = await deps.embedder.embed(texts.map((t) => `${d.title}\n${t}`));
    if (vectors.length !== texts.length) throw new Error(`embedder returned ${vectors.length} vectors for ${texts.length} chunks`);
    const chunks = await repo.replaceChunks(doc.id, texts);
    await deps.vectors.upsert(
      ns,
      chunks.map((c, i) => {
        const metadata: ChunkMetadata = { documentId: doc.id, agentId: d.agentId, title: d.title, text: c.text, language: d.language, ord: c.ord };
        return { id: c.id, values: vectors[i], metadata };
      }),
    );
    await repo.setStatus(doc.id, 'ready');
    return { document: { ...doc, status: 'ready', error: null }, chunks: chunks.length };
  } catch (err) {
    await repo.setStatus(doc.id, 'failed', (err as Error)?.message ?? String(err));
    throw err;
  }
}

/** Class form of {@link ingestDocument} with the dependencies bound. */
export class KnowledgeIngestor {
  constructor(private readonly deps: IngestDeps) {}
  /** See {@link ingestDocument}. */
  ingestDocument(input: IngestInput): Promise<IngestResult> {
    return ingestDocument(this.deps, input);
  }
}
