import type { Knex } from 'knex';
import { z } from 'zod';
import type { Embedder, VectorStore } from '../providers/types';
import { ProviderError } from '../providers/errors';
import { KnowledgeRepo, type KnowledgeDocument } from '../db/knowledge';
import { chunkText, type ChunkOptions } from './chunker';

/**
 * Knowledge ingestion in two steps that can run in different processes:
 * 1. {@link createPendingDocument} (the REST API): validates, stores the document as `pending` with its text;
 * 2. {@link ingestStoredDocument} (the `knowledge` worker job): chunk → embed → vector store → `ready` | `failed`.
 * {@link ingestDocument} runs both at once (the demo seed, tests).
 */

/** The vector-store namespace holding one agent's knowledge. */
export const agentNamespace = (agentId: string): string => `agent:${agentId}`;

/** Texts per `embedder.embed()` call (keeps each embeddings request well below vendor input limits). */
export const EMBED_BATCH = 96;

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

/** An ingestion failure that retrying cannot fix (no stored text, nothing to chunk, embedder answered wrongly). */
export class PermanentIngestError extends Error {
  override readonly name = 'PermanentIngestError';
}

/** Whether retrying `err` could succeed: not for {@link PermanentIngestError} or a non-retryable ProviderError. */
export function isRetryableIngestError(err: unknown): boolean {
  if (err instanceof PermanentIngestError) return false;
  if (err instanceof ProviderError) return err.retryable;
  return true; // database / network blips
}

/**
 * Step 1: validates `input` and creates (or, same `(agentId, title)`, replaces) the document as `pending` with
 * `text` stored as its source text (`version` + 1 on a replace, chunks removed; vectors are replaced by step 2).
 * @throws ZodError on invalid input (nothing written); a database error when the agent does not exist (FK).
 */
export async function createPendingDocument(db: Knex, input: IngestInput): Promise<KnowledgeDocument> {
  const d = ingestInputSchema.parse(input);
  return new KnowledgeRepo(db).upsertPending({ agentId: d.agentId, title: d.title, language: d.language, sourceText: d.text });
}

/** What {@link ingestStoredDocument} did: ingested, or nothing because the document was re-uploaded / deleted meanwhile. */
export type StoredIngestOutcome =
  | { status: 'ready'; document: KnowledgeDocument; chunks: number }
  | { status: 'superseded' | 'deleted'; documentId: string };

export interface IngestStoredOptions {
  /** The upload this run is for (default: the document's current version). Another version → `superseded`. */
  version?: number;
  /**
   * Whether a failure marks the document `failed` before it is rethrown: a boolean, or a predicate of the error
   * (the worker marks only permanent errors and last attempts). Default true.
   */
  markFailed?: boolean | ((err: unknown) => boolean);
}

/**
 * Step 2: ingests the stored source text of document `documentId`: remove its old vectors → chunk
 * ({@link chunkText}) → embed `title + "\n" + chunk` (batches of {@link EMBED_BATCH}) → store chunks → upsert vectors
 * into namespace `agent:<agentId>` with {@link ChunkMetadata} (vector id = chunk id `<documentId>:<ord>`) → `ready`.
 *
 * A newer upload or a delete that lands while this runs wins: the version is re-checked before writing, the
 * final status update only applies to `o.version`, and vectors written for a document deleted meanwhile are
 * removed again. (Two runs for the same document are not meant to overlap; the worker processes jobs one at a time.)
 * Until the new vectors are written the previous upload's vectors stay searchable (also while the worker retries).
 * @throws PermanentIngestError (no stored text, nothing to chunk, wrong vector count) and whatever the embedder,
 *   vector store or database throw; unless `o.markFailed` says otherwise the document is first marked `failed` with
 *   the error message ({@link ingestErrorText}) and its vectors are removed (best effort).
 */
export async function ingestStoredDocument(deps: IngestDeps, documentId: string, o: IngestStoredOptions = {}): Promise<StoredIngestOutcome> {
  const repo = new KnowledgeRepo(deps.db);
  const source = await repo.getSource(documentId);
  if (!source) return { status: 'deleted', documentId };
  const doc = source.document;
  const version = o.version ?? doc.version;
  if (doc.version !== version) return { status: 'superseded', documentId };
  const ns = agentNamespace(doc.agentId);
  /** After an await: has the document been deleted or re-uploaded? */
  const changed = async (): Promise<'deleted' | 'superseded' | null> => {
    const now = await repo.get(documentId);
    return !now ? 'deleted' : now.version !== version ? 'superseded' : null;
  };
  try {
    if (!source.sourceText?.trim()) throw new PermanentIngestError('document has no stored text to ingest; upload it again');
    const texts = chunkText(source.sourceText, deps.chunking);
    if (!texts.length) throw new PermanentIngestError('document text has no content to index');
    const vectors: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const batch = texts.slice(i, i + EMBED_BATCH);
      const got = await deps.embedder.embed(batch.map((t) => `${doc.title}\n${t}`));
      if (got.length !== batch.length) throw new PermanentIngestError(`embedder returned ${got.length} vectors for ${batch.length} chunks`);
      vectors.push(...got);
    }
    const before = await changed();
    if (before) return { status: before, documentId };
    await deps.vectors.deleteByFilter(ns, { documentId });
    const chunks = await repo.replaceChunks(documentId, texts);
    await deps.vectors.upsert(
      ns,
      chunks.map((c, i) => {
        const metadata: ChunkMetadata = { documentId, agentId: doc.agentId, title: doc.title, text: c.text, language: doc.language, ord: c.ord };
        return { id: c.id, values: vectors[i], metadata };
      }),
    );
    if (!(await repo.setStatus(documentId, 'ready', null, { version }))) {
      const after = (await changed()) ?? 'superseded';
      if (after === 'deleted') await deps.vectors.deleteByFilter(ns, { documentId });
      return { status: after, documentId };
    }
    return { status: 'ready', document: { ...doc, status: 'ready', error: null }, chunks: chunks.length };
  } catch (err) {
    // A failed document is not searchable: its old vectors go too (best effort — the store may be what failed).
    const mark = typeof o.markFailed === 'function' ? o.markFailed(err) : o.markFailed !== false;
    if (mark && (await repo.setStatus(documentId, 'failed', ingestErrorText(err), { version }))) {
      await deps.vectors.deleteByFilter(ns, { documentId }).catch(() => undefined);
    }
    throw err;
  }
}

/** A document's failure reason as stored and shown by the API (the error message, at most 500 characters). */
export function ingestErrorText(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 500);
}

/**
 * Ingests one knowledge document synchronously: {@link createPendingDocument} then {@link ingestStoredDocument}.
 * Re-uploading a title replaces the document (same id, old chunks and vectors removed).
 * @throws ZodError on invalid input (nothing is written). Any later failure (embedder, vector store) marks the
 *   document `failed` with the error message and is rethrown.
 */
export async function ingestDocument(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const pending = await createPendingDocument(deps.db, input);
  const r = await ingestStoredDocument(deps, pending.id, { version: pending.version });
  if (r.status === 'ready') return { document: r.document, chunks: r.chunks };
  // A concurrent upload or delete won: report the document as it is now.
  const repo = new KnowledgeRepo(deps.db);
  const now = await repo.get(pending.id);
  return { document: now ?? pending, chunks: now ? (await repo.chunks(now.id)).length : 0 };
}

/** Class form of {@link ingestDocument} with the dependencies bound. */
export class KnowledgeIngestor {
  constructor(private readonly deps: IngestDeps) {}
  /** See {@link ingestDocument}. */
  ingestDocument(input: IngestInput): Promise<IngestResult> {
    return ingestDocument(this.deps, input);
  }
}
