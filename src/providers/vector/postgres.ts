import type { Knex } from 'knex';
import type { Filter, Match, Metadata, VectorItem, VectorStore } from '../types';
import { ProviderError } from '../errors';

const MAX_NAMESPACE = 100; // vector_items.namespace varchar(100)
const MAX_ID = 200; // vector_items.id varchar(200)
const BATCH = 500;

/**
 * Offline {@link VectorStore} on the PostgreSQL table `vector_items (namespace, id, embedding float4[], metadata
 * jsonb)`, Pinecone-shaped: namespaces, ids, values, flat metadata, `$eq` filters.
 *
 * - `upsert` inserts or replaces by `(namespace, id)`, in batches of 500 rows per statement.
 * - `query` scores by the dot product computed in SQL over `unnest(embedding, $vector)`; vectors are expected to be
 *   L2-normalised (as every {@link Embedder} returns them), so the score is the cosine similarity. Only items with
 *   the query's dimensionality are considered. An exhaustive scan per namespace — fine for thousands of chunks
 *   per agent; use a real ANN index (Pinecone, pgvector) beyond that.
 * - Filters are equality on every given field, evaluated as `metadata @> filter` (served by the GIN index).
 *
 * Errors: bad input (empty/too long namespace or id, non-finite values, k < 1, empty delete filter) throws
 * `ProviderError` with `retryable: false`; database errors propagate as `ProviderError` with `retryable: true`.
 */
export class PostgresVectorStore implements VectorStore {
  readonly id = 'postgres';

  constructor(private readonly db: Knex) {}

  /** Inserts or replaces items by id within namespace `ns`. */
  async upsert(ns: string, items: VectorItem[]): Promise<void> {
    this.checkNs(ns);
    const rows = items.map((it) => {
      if (typeof it.id !== 'string' || !it.id || it.id.length > MAX_ID) throw this.bad(`item id must be 1-${MAX_ID} chars`);
      return { namespace: ns, id: it.id, embedding: this.toArray(it.values), metadata: JSON.stringify(this.checkMeta(it.metadata ?? {})) };
    });
    if (new Set(rows.map((r) => r.id)).size !== rows.length) throw this.bad('duplicate ids in one upsert');
    await this.run(async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await this.db('vector_items')
          .insert(rows.slice(i, i + BATCH))
          .onConflict(['namespace', 'id'])
          .merge(['embedding', 'metadata']);
      }
    });
  }

  /** The `k` items of `ns` closest to `vector` (best first), optionally restricted to metadata equal to `filter`. */
  async query(ns: string, vector: Float32Array, k: number, filter?: Filter): Promise<Match[]> {
    this.checkNs(ns);
    if (!Number.isInteger(k) || k < 1) throw this.bad(`k must be a positive integer, got ${k}`);
    const v = this.toArray(vector);
    const rows = await this.run(() =>
      this.db
        .select('id', 'metadata')
        .select(this.db.raw('(SELECT sum(a::float8 * b::float8) FROM unnest(embedding, ?::float4[]) AS t(a, b)) AS score', [v]))
        .from('vector_items')
        .where('namespace', ns)
        .whereRaw('cardinality(embedding) = ?', [v.length])
        .modify((q) => {
          if (filter && Object.keys(filter).length) q.whereRaw('metadata @> ?::jsonb', [JSON.stringify(this.checkMeta(filter))]);
        })
        .orderBy([{ column: 'score', order: 'desc' }, { column: 'id' }])
        .limit(k),
    );
    return rows.map((r: any) => ({ id: r.id, score: Number(r.score ?? 0), metadata: r.metadata as Metadata }));
  }

  /** Deletes every item of `ns` whose metadata matches `filter`. @throws ProviderError when the filter is empty. */
  async deleteByFilter(ns: string, filter: Filter): Promise<void> {
    this.checkNs(ns);
    if (!filter || !Object.keys(filter).length) throw this.bad('deleteByFilter needs a non-empty filter');
    await this.run(() => this.db('vector_items').where('namespace', ns).whereRaw('metadata @> ?::jsonb', [JSON.stringify(this.checkMeta(filter))]).delete());
  }

  private checkNs(ns: string): void {
    if (typeof ns !== 'string' || !ns || ns.length > MAX_NAMESPACE) throw this.bad(`namespace must be 1-${MAX_NAMESPACE} chars`);
  }

  private checkMeta<T extends Record<string, unknown>>(m: T): T {
    for (const [key, val] of Object.entries(m)) {
      if (!['string', 'number', 'boolean'].includes(typeof val)) throw this.bad(`metadata/filter field "${key}" must be a string, number or boolean`);
    }
    return m;
  }

  private toArray(values: Float32Array): number[] {
    if (!values || !values.length) throw this.bad('vector must not be empty');
    const out = Array.from(values);
    if (!out.every(Number.isFinite)) throw this.bad('vector values must be finite');
    return out;
  }

  private bad(message: string): ProviderError {
    return new ProviderError(this.id, message, { retryable: false });
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError(this.id, `database error: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }
}
