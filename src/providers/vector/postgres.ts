import type { Knex } from 'knex';
import type { CallOptions, Filter, Match, Metadata, VectorItem, VectorStore } from '../types';
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
 * - Cancellation: every method takes `o.signal`. When it fires, the call rejects at once with `signal.reason` and
 *   the statement running for it is cancelled with PostgreSQL's cancel request (`pg_cancel_backend` of that
 *   connection's backend pid, through knex's own `client.cancelQuery`, which sends it over a separate connection);
 *   the pooled connection goes back to the pool only once the statement has ended (or is destroyed by the pool
 *   when the cancel itself failed). An abort that lands in the instant between handing a statement to the driver
 *   and its arrival at the server may miss it: the caller still gets its rejection at once, only the connection
 *   stays busy until that statement ends.
 *
 * Errors: bad input (empty/too long namespace or id, non-finite values, k < 1, empty delete filter) throws
 * `ProviderError` with `retryable: false`; database errors propagate as `ProviderError` with `retryable: true`.
 */
export class PostgresVectorStore implements VectorStore {
  readonly id = 'postgres';

  constructor(private readonly db: Knex) {}

  /** Inserts or replaces items by id within namespace `ns` (batches are separate statements, not one transaction). */
  async upsert(ns: string, items: VectorItem[], o: CallOptions = {}): Promise<void> {
    this.checkNs(ns);
    const rows = items.map((it) => {
      if (typeof it.id !== 'string' || !it.id || it.id.length > MAX_ID) throw this.bad(`item id must be 1-${MAX_ID} chars`);
      return { namespace: ns, id: it.id, embedding: this.toArray(it.values), metadata: JSON.stringify(this.checkMeta(it.metadata ?? {})) };
    });
    if (new Set(rows.map((r) => r.id)).size !== rows.length) throw this.bad('duplicate ids in one upsert');
    await this.run(o.signal, async (on) => {
      for (let i = 0; i < rows.length; i += BATCH) {
        o.signal?.throwIfAborted();
        await on(this.db('vector_items'))
          .insert(rows.slice(i, i + BATCH))
          .onConflict(['namespace', 'id'])
          .merge(['embedding', 'metadata']);
      }
    });
  }

  /** The `k` items of `ns` closest to `vector` (best first), optionally restricted to metadata equal to `filter`. */
  async query(ns: string, vector: Float32Array, k: number, filter?: Filter, o: CallOptions = {}): Promise<Match[]> {
    this.checkNs(ns);
    if (!Number.isInteger(k) || k < 1) throw this.bad(`k must be a positive integer, got ${k}`);
    const v = this.toArray(vector);
    const rows = await this.run(o.signal, (on) =>
      on(this.db.queryBuilder())
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
  async deleteByFilter(ns: string, filter: Filter, o: CallOptions = {}): Promise<void> {
    this.checkNs(ns);
    if (!filter || !Object.keys(filter).length) throw this.bad('deleteByFilter needs a non-empty filter');
    await this.run(o.signal, (on) => on(this.db('vector_items')).where('namespace', ns).whereRaw('metadata @> ?::jsonb', [JSON.stringify(this.checkMeta(filter))]).delete());
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

  /**
   * Runs `fn`, whose statements must be built through `on(builder)`. Without a signal they use the pool as usual;
   * with one, they run on one connection acquired here so that an abort can cancel the running statement (see
   * the class doc). Database errors become retryable ProviderErrors; an abort rejects at once with its reason.
   */
  private async run<T>(signal: AbortSignal | undefined, fn: (on: <Q extends Knex.QueryBuilder>(q: Q) => Q) => Promise<T>): Promise<T> {
    try {
      if (!signal) return await fn((q) => q);
      return await this.cancellable(signal, fn);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ProviderError) throw err;
      throw new ProviderError(this.id, `database error: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }

  private async cancellable<T>(signal: AbortSignal, fn: (on: <Q extends Knex.QueryBuilder>(q: Q) => Q) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = this.db.client as Knex.Client & { cancelQuery(conn: unknown): Promise<unknown> };
    let conn: (Record<string, unknown> & { processID?: number }) | undefined;
    let running = false;
    let cancelled: Promise<unknown> = Promise.resolve();
    let rejectAborted: (e: unknown) => void = () => {};
    const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
    aborted.catch(() => {});
    const onAbort = () => {
      if (conn && running) {
        const c = conn;
        // A failed cancel leaves the statement running: have the pool destroy the connection instead of reusing it.
        cancelled = client.cancelQuery(c).catch((err: unknown) => { c.__knex__disposed = err; });
      }
      rejectAborted(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const work = (async () => {
      conn = await client.acquireConnection();
      try {
        signal.throwIfAborted();
        running = true;
        return await fn((q) => q.connection(conn));
      } finally {
        running = false;
        await cancelled; // never hand back a connection a cancel request may still be on its way to
        await client.releaseConnection(conn);
      }
    })();
    work.catch(() => {});
    try {
      return await Promise.race([work, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
