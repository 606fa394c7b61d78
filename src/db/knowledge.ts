import type { Knex } from 'knex';

export type DocumentStatus = 'pending' | 'ready' | 'failed';

/** A knowledge document (its text lives in its chunks). */
export interface KnowledgeDocument {
  id: string;
  agentId: string;
  title: string;
  /** ISO 639-1. */
  language: string;
  status: DocumentStatus;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

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
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The chunk id convention shared by the chunks table and the vector store. */
export const chunkId = (documentId: string, ord: number): string => `${documentId}:${ord}`;

/** Repository for `knowledge_documents` and `knowledge_chunks`. */
export class KnowledgeRepo {
  constructor(private readonly db: Knex) {}

  /**
   * Creates the document `(agentId, title)` or, when it exists, replaces it: status back to `pending`, error
   * cleared, language updated and all its chunks deleted — one transaction. The id is stable across re-uploads.
   * @throws when the agent does not exist (FK violation).
   */
  async upsertPending(d: { agentId: string; title: string; language: string }): Promise<KnowledgeDocument> {
    return this.db.transaction(async (trx) => {
      const [r] = await trx('knowledge_documents')
        .insert({ agent_id: d.agentId, title: d.title, language: d.language, status: 'pending' })
        .onConflict(['agent_id', 'title'])
        .merge({ language: d.language, status: 'pending', error: null, updated_at: trx.fn.now() })
        .returning('*');
      await trx('knowledge_chunks').where({ document_id: r.id }).delete();
      return toDoc(r);
    });
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

  /** Sets the status (and, for `failed`, the error message; cleared otherwise). */
  async setStatus(documentId: string, status: DocumentStatus, error: string | null = null): Promise<void> {
    await this.db('knowledge_documents').where({ id: documentId }).update({ status, error: status === 'failed' ? error : null, updated_at: this.db.fn.now() });
  }

  async get(documentId: string): Promise<KnowledgeDocument | null> {
    const r = await this.db('knowledge_documents').where({ id: documentId }).first();
    return r ? toDoc(r) : null;
  }

  async findByTitle(agentId: string, title: string): Promise<KnowledgeDocument | null> {
    const r = await this.db('knowledge_documents').where({ agent_id: agentId, title }).first();
    return r ? toDoc(r) : null;
  }

  /** An agent's documents ordered by title. */
  async listDocuments(agentId: string): Promise<KnowledgeDocument[]> {
    return (await this.db('knowledge_documents').where({ agent_id: agentId }).orderBy('title')).map(toDoc);
  }

  /** A document's chunks in order. */
  async chunks(documentId: string): Promise<KnowledgeChunk[]> {
    const rows = await this.db('knowledge_chunks').where({ document_id: documentId }).orderBy('ord');
    return rows.map((r) => ({ id: r.id, documentId: r.document_id, ord: r.ord, text: r.text }));
  }

  /** Deletes a document and (by cascade) its chunks. Vectors must be removed from the vector store by the caller. */
  async deleteDocument(documentId: string): Promise<void> {
    await this.db('knowledge_documents').where({ id: documentId }).delete();
  }
}
