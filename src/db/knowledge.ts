import type { Knex } from 'knex';

export type DocumentStatus = 'pending' | 'ready' | 'failed';

/** A knowledge document (its searchable text lives in its chunks; the uploaded text in `source_text`, see {@link KnowledgeRepo.getSource}). */
export interface KnowledgeDocument {
  id: string;
  agentId: string;
  title: string;
  /** ISO 639-1. */
  language: string;
  status: DocumentStatus;
  error: string | null;
  /** 1 on creation, + 1 on every re-upload of the same title (ingestion jobs are per document + version). */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A document with its number of stored chunks (the REST API's view). */
export type KnowledgeDocumentWithCount = KnowledgeDocument & { chunks: number };

/** One chunk of a document. `id` is `${documentId}:${ord}` and is also the vector id in the vector store. */
export interface KnowledgeChunk {
  id: string;
  documentId: string;
  ord: number;
  text: string;
}

const toDoc = (r: Record<string, any>): KnowledgeDocument => ({
  id: r.id,
  agentId: r.agent_id,
  title: r.title,
  language: r.language,
  status: r.status,
  error: r.error,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDocWithCount = (r: Record<string, any>): KnowledgeDocumentWithCount => ({ ...toDoc(r), chunks: Number(r.chunk_count) });

/** The chunk id convention shared by the chunks table and the vector store. */
export const chunkId = (documentId: string, ord: number): string => `${documentId}:${ord}`;

/** Columns of a document row without its (possibly large) `source_text`, bare and table-qualified. */
const DOC_FIELDS = ['id', 'agent_id', 'title', 'language', 'status', 'error', 'version', 'created_at', 'updated_at'];
const DOC_COLUMNS = DOC_FIELDS.map((c) => `knowledge_documents.${c}`);

/** Repository for `knowledge_documents` and `knowledge_chunks`. */
export class KnowledgeRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Creates the document `(agentId, title)` or, when it exists, replaces it: status back to `pending`, error
   * cleared, language and source text updated, `version` + 1 and all its chunks deleted — one transaction. The id
   * is stable across re-uploads. `sourceText` is the text to ingest (read back with {@link getSource}).
   * @throws when the agent does not exist (FK violation).
   */
  async upsertPending(d: { agentId: string; title: string; language: string; sourceText?: string | null }): Promise<KnowledgeDocument> {
    return this.db.transaction(async (trx) => {
      const source = d.sourceText ?? null;
      const [r] = await trx('knowledge_documents')
        .insert({ agent_id: d.agentId, title: d.title, language: d.language, status: 'pending', source_text: source, version: 1 })
        .onConflict(['agent_id', 'title'])
        .merge({ language: d.language, status: 'pending', error: null, source_text: source, version: trx.raw('knowledge_documents.version + 1'), updated_at: trx.fn.now() })
        .returning(DOC_FIELDS);
      await trx('knowledge_chunks').where({ document_id: r.id }).delete();
      return toDoc(r);
    });
  }

  /** A document and the text stored for ingestion (null when it was created without one), or null when unknown. */
  async getSource(documentId: string): Promise<{ document: KnowledgeDocument; sourceText: string | null } | null> {
    const r = await this.db('knowledge_documents').where({ id: documentId }).first();
    return r ? { document: toDoc(r), sourceText: r.source_text ?? null } : null;
  }

  /** Stores the chunks of a document (`ord` from 0), replacing any it had. */
  async replaceChunks(documentId: string, texts: string[]): Promise<KnowledgeChunk[]> {
    const chunks = texts.map((text, ord) => ({ id: chunkId(documentId, ord), documentId, ord, text }));
    await this.db.transaction(async (trx) => {
      await trx('knowledge_chunks').where({ document_id: documentId }).delete();
      if (chunks.length) await trx('knowledge_chunks').insert(chunks.map((c) => ({ id: c.id, document_id: documentId, ord: c.ord, text: c.text })));
    });
    return chunks;
  }

  /**
   * Sets the status (and, for `failed`, the error message; cleared otherwise). With `o.version`, only while the
   * document is still at that version (a superseded ingestion job must not overwrite a newer upload's status).
   * @returns whether a row was updated (false: unknown document, or another version).
   */
  async setStatus(documentId: string, status: DocumentStatus, error: string | null = null, o: { version?: number } = {}): Promise<boolean> {
    const q = this.db('knowledge_documents').where({ id: documentId });
    if (o.version !== undefined) q.andWhere({ version: o.version });
    return (await q.update({ status, error: status === 'failed' ? error : null, updated_at: this.db.fn.now() })) > 0;
  }

  async get(documentId: string): Promise<KnowledgeDocument | null> {
    const r = await this.db('knowledge_documents').where({ id: documentId }).first(DOC_COLUMNS);
    return r ? toDoc(r) : null;
  }

  async findByTitle(agentId: string, title: string): Promise<KnowledgeDocument | null> {
    const r = await this.db('knowledge_documents').where({ agent_id: agentId, title }).first(DOC_COLUMNS);
    return r ? toDoc(r) : null;
  }

  /** An agent's documents ordered by title. */
  async listDocuments(agentId: string): Promise<KnowledgeDocument[]> {
    return (await this.db('knowledge_documents').where({ agent_id: agentId }).orderBy('title').select(DOC_COLUMNS)).map(toDoc);
  }

  /** An agent's documents ordered by title, each with its chunk count (one query). */
  async listWithChunkCounts(agentId: string): Promise<KnowledgeDocumentWithCount[]> {
    return (await this.withCounts().where('knowledge_documents.agent_id', agentId).orderBy('knowledge_documents.title')).map(toDocWithCount);
  }

  /** One document of `agentId` with its chunk count, or null (also when it belongs to another agent). */
  async getWithChunkCount(agentId: string, documentId: string): Promise<KnowledgeDocumentWithCount | null> {
    const r = await this.withCounts().where({ 'knowledge_documents.agent_id': agentId, 'knowledge_documents.id': documentId }).first();
    return r ? toDocWithCount(r) : null;
  }

  private withCounts() {
    const counts = this.db('knowledge_chunks').select('document_id').count<Record<string, unknown>[]>('* as chunk_count').groupBy('document_id').as('c');
    return this.db('knowledge_documents')
      .leftJoin(counts, 'c.document_id', 'knowledge_documents.id')
      .select([...DOC_COLUMNS, this.db.raw('coalesce(c.chunk_count, 0)::int as chunk_count')]);
  }

  /** A document's chunks in order. */
  async chunks(documentId: string): Promise<KnowledgeChunk[]> {
    const rows = await this.db('knowledge_chunks').where({ document_id: documentId }).orderBy('ord');
    return rows.map((r) => ({ id: r.id, documentId: r.document_id, ord: r.ord, text: r.text }));
  }

  /**
   * Deletes a document and (by cascade) its chunks. Vectors must be removed from the vector store by the caller.
   * @returns whether the document existed.
   */
  async deleteDocument(documentId: string): Promise<boolean> {
    return (await this.db('knowledge_documents').where({ id: documentId }).delete()) > 0;
  }
}
