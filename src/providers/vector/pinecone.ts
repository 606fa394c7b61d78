import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, Pinecone, type Index, type PineconeRecord, type RecordMetadata } from '@pinecone-database/pinecone';
import { redactSecrets } from '../../domain/redact';
import { ProviderError } from '../errors';
import type { CallOptions, Filter, Match, Metadata, VectorItem, VectorStore } from '../types';

/** Options of {@link PineconeVectorStore}. */
export interface PineconeVectorStoreOptions {
  /** Pinecone API key, sent as the `Api-Key` header. Never logged nor put in error messages. */
  apiKey: string;
  /**
   * Full index host URL from the console or `describeIndex`, e.g. `https://support-abc123.svc.aped-4627-b74a.pinecone.io`;
   * `http://127.0.0.1:port` for a local double or emulator (a bare host gets `https://`).
   */
  indexHost: string;
  /** Per HTTP request timeout (ms), covering headers and body. Default 3000. */
  timeoutMs?: number;
  /** SDK-level retries of 5xx responses. Default 0: the caller's resilience layer retries retryable errors. */
  maxRetries?: number;
  /** Most records per upsert request. Default 100 (Pinecone's advice; hard limits 1000 records and 2 MB). */
  upsertBatchSize?: number;
}

const ID = 'pinecone';
/** Upsert requests are also cut before this many bytes of JSON (Pinecone rejects requests over 2 MB). */
const MAX_REQUEST_BYTES = 1_800_000;
const MAX_ID = 512;

/**
 * Per SDK call, through the async context into our `fetchApi`: the caller's abort signal (the v8 SDK's data-plane
 * methods take none) and the last HTTP status seen (the SDK's errors do not carry it).
 */
interface CallContext {
  signal?: AbortSignal;
  status?: number;
}
const callContext = new AsyncLocalStorage<CallContext>();

/**
 * {@link VectorStore} on a Pinecone (serverless, cosine metric) index through the official
 * `@pinecone-database/pinecone` v8 SDK, targeted by host: `new Pinecone({ apiKey }).index({ host })`. Each agent's
 * namespace `ns` is a Pinecone namespace (`index.namespace(ns)`). Wire format: /work/shared/PROTOCOLS.md ("Pinecone").
 *
 * - `upsert` → `POST /vectors/upsert` in batches of ≤ `upsertBatchSize` records and < 1.8 MB of JSON. Float32 values
 *   are sent as numbers with 9 significant digits (exact for float32, which is what Pinecone stores). Empty
 *   metadata is left out. The index fixes the dimension (384 for the local embedder, 1536 for OpenAI's): this store
 *   assumes none, but all items of one call must share one.
 * - `query` → `POST /query { vector, topK: k, includeMetadata: true, includeValues: false, filter? }`. Scores are
 *   what Pinecone returns — for a cosine index, the cosine similarity (higher is closer).
 * - Filters: `{ a: 1 }` → `{ a: { $eq: 1 } }`; several fields → `{ $and: [{ a: { $eq: 1 } }, { b: { $eq: 'x' } }] }`.
 * - `deleteByFilter` → `POST /vectors/delete { filter, namespace }` (SDK `deleteMany({ filter })`). Pinecone's
 *   current docs support delete by metadata on serverless indexes (older docs said pod-based only); an index that
 *   still refuses it answers 400, surfaced as a non-retryable error rather than emulated with query + delete by id
 *   (a query caps at 10 000 matches, so that emulation could silently leave records behind).
 * - Pinecone is eventually consistent: a query right after an upsert may not see it yet.
 *
 * Errors: {@link ProviderError}; retryable for 408, 409, 429, 5xx (except 501), timeouts and network failures,
 * with `status` when there was an HTTP response; not retryable for other 4xx and invalid input (empty namespace or
 * id, non-finite values, mixed dimensions, non-scalar metadata, k < 1, empty delete filter).
 */
export class PineconeVectorStore implements VectorStore {
  readonly id = ID;
  private readonly index: Index;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly batchSize: number;

  /** @throws Error on a missing key/host or invalid numbers (configuration errors). */
  constructor(o: PineconeVectorStoreOptions) {
    if (!o.apiKey) throw new Error('PineconeVectorStore: apiKey is required');
    if (!o.indexHost) throw new Error('PineconeVectorStore: indexHost is required');
    this.apiKey = o.apiKey;
    this.timeoutMs = o.timeoutMs ?? 3000;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new Error(`PineconeVectorStore: timeoutMs must be a positive integer, got ${o.timeoutMs}`);
    this.batchSize = o.upsertBatchSize ?? 100;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 1000) throw new Error(`PineconeVectorStore: upsertBatchSize must be 1..1000, got ${o.upsertBatchSize}`);
    const maxRetries = o.maxRetries ?? 0;
    const pc = new Pinecone({ apiKey: o.apiKey, maxRetries, fetchApi: this.fetch });
    this.index = pc.index({ host: o.indexHost });
  }

  /** Inserts or replaces items by id within namespace `ns`. `o.signal` aborts the request in flight. @throws ProviderError */
  async upsert(ns: string, items: VectorItem[], o: CallOptions = {}): Promise<void> {
    const target = this.namespace(ns);
    if (!items.length) return;
    const dim = items[0].values?.length;
    const ids = new Set<string>();
    const records = items.map((it) => {
      if (typeof it.id !== 'string' || !it.id || it.id.length > MAX_ID) throw this.bad(`item id must be 1-${MAX_ID} chars`);
      if (ids.has(it.id)) throw this.bad(`duplicate id "${it.id}" in one upsert`);
      ids.add(it.id);
      const values = this.toValues(it.values);
      if (values.length !== dim) throw this.bad(`all vectors of one upsert must have the same dimension (${dim}), "${it.id}" has ${values.length}`);
      const rec: PineconeRecord = { id: it.id, values };
      const meta = this.checkMeta(it.metadata ?? {}, 'metadata');
      if (Object.keys(meta).length) rec.metadata = meta;
      return rec;
    });
    for (const batch of batches(records, this.batchSize, MAX_REQUEST_BYTES)) {
      await this.call('upsert', o.signal, () => target.upsert({ records: batch }));
    }
  }

  /**
   * The `k` items of `ns` closest to `vector`, best first, optionally restricted by metadata equality. `o.signal`
   * aborts the HTTP request and rejects at once with its reason. @throws ProviderError
   */
  async query(ns: string, vector: Float32Array, k: number, filter?: Filter, o: CallOptions = {}): Promise<Match[]> {
    const target = this.namespace(ns);
    if (!Number.isInteger(k) || k < 1 || k > 10_000) throw this.bad(`k must be an integer in 1..10000, got ${k}`);
    const values = this.toValues(vector);
    const f = filter && Object.keys(filter).length ? toPineconeFilter(this.checkMeta(filter, 'filter')) : undefined;
    const res = await this.call('query', o.signal, () => target.query({ vector: values, topK: k, includeMetadata: true, includeValues: false, ...(f ? { filter: f } : {}) }));
    if (!res || !Array.isArray(res.matches)) throw new ProviderError(ID, 'query: malformed response (no matches array)', { retryable: true });
    return res.matches.map((m) => ({ id: m.id, score: typeof m.score === 'number' ? m.score : Number.NaN, metadata: (m.metadata ?? {}) as Metadata }));
  }

  /** Deletes every item of `ns` whose metadata equals `filter` on all its fields. @throws ProviderError (empty filter: not retryable) */
  async deleteByFilter(ns: string, filter: Filter, o: CallOptions = {}): Promise<void> {
    const target = this.namespace(ns);
    if (!filter || !Object.keys(filter).length) throw this.bad('deleteByFilter needs a non-empty filter');
    const f = toPineconeFilter(this.checkMeta(filter, 'filter'));
    await this.call('delete', o.signal, () => target.deleteMany({ filter: f }));
  }

  /**
   * `fetch` given to the SDK: adds the per-request timeout and the caller's signal of the current call (so an
   * abort closes the HTTP request), and records the HTTP status for error mapping.
   */
  private readonly fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const ctx = callContext.getStore();
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (init?.signal) signals.push(init.signal);
    if (ctx?.signal) signals.push(ctx.signal);
    const res = await fetch(url, { ...init, signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] });
    if (ctx) ctx.status = res.status;
    return res;
  };

  /**
   * Runs one SDK call, mapping whatever it throws to ProviderError. When `signal` fires, rejects at once with its
   * reason (the request is aborted through {@link fetch}; whatever the SDK makes of that is ignored).
   */
  private async call<T>(op: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const ctx: CallContext = { signal };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      const work = callContext.run(ctx, fn);
      work.catch(() => {});
      return await (signal ? Promise.race([work, aborted]) : work);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw this.mapError(op, err, ctx.status);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private mapError(op: string, err: unknown, status: number | undefined): ProviderError {
    if (err instanceof ProviderError) return err;
    const message = redact(err instanceof Error ? err.message : String(err), this.apiKey);
    if (err instanceof Errors.PineconeArgumentError) return new ProviderError(ID, `${op}: invalid request: ${message}`, { retryable: false, cause: err });
    if (hasTimeout(err)) return new ProviderError(ID, `${op}: timed out after ${this.timeoutMs} ms`, { retryable: true, cause: err });
    if (status !== undefined && (status < 200 || status >= 300)) {
      return new ProviderError(ID, `${op}: HTTP ${status}: ${message}`, { retryable: isRetryableStatus(status), status, cause: err });
    }
    if (status !== undefined) {
      // A 2xx whose body could not be read as the expected JSON (a proxy's HTML page, a truncated body, ...).
      return new ProviderError(ID, `${op}: malformed response: ${message}`, { retryable: true, status, cause: err });
    }
    return new ProviderError(ID, `${op}: network error: ${message}`, { retryable: true, cause: err });
  }

  private namespace(ns: string): Index {
    if (typeof ns !== 'string' || !ns || ns.length > 512) throw this.bad('namespace must be 1-512 chars');
    return this.index.namespace(ns);
  }

  private checkMeta<T extends Record<string, unknown>>(m: T, what: string): T {
    for (const [key, val] of Object.entries(m)) {
      if (key.startsWith('$')) throw this.bad(`${what} field "${key}" must not start with "$"`);
      const ok = typeof val === 'string' || typeof val === 'boolean' || (typeof val === 'number' && Number.isFinite(val));
      if (!ok) throw this.bad(`${what} field "${key}" must be a string, finite number or boolean`);
    }
    return m;
  }

  /** Float32Array → number[] with 9 significant digits (round-trips float32 exactly, shorter JSON). */
  private toValues(values: Float32Array): number[] {
    if (!values || !values.length) throw this.bad('vector must not be empty');
    const out = Array.from(values, (x) => Number(x.toPrecision(9)));
    if (!out.every(Number.isFinite)) throw this.bad('vector values must be finite');
    return out;
  }

  private bad(message: string): ProviderError {
    return new ProviderError(ID, message, { retryable: false });
  }
}

/** Pinecone filter for metadata equality on every field of `f` (non-empty). */
export function toPineconeFilter(f: Filter): Record<string, unknown> {
  const clauses = Object.entries(f).map(([k, v]) => ({ [k]: { $eq: v } }));
  return clauses.length === 1 ? clauses[0] : { $and: clauses };
}

/** HTTP statuses worth retrying: 408, 409, 429, 5xx except 501 (not implemented). */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status !== 501);
}

/** Splits records into batches of at most `max` records and roughly `maxBytes` of JSON. */
function batches(records: PineconeRecord<RecordMetadata>[], max: number, maxBytes: number): PineconeRecord<RecordMetadata>[][] {
  const out: PineconeRecord<RecordMetadata>[][] = [];
  let cur: PineconeRecord<RecordMetadata>[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = JSON.stringify(r).length + 1;
    if (cur.length && (cur.length >= max || bytes + size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** True when `err` or one of its causes is an AbortSignal.timeout() firing. */
function hasTimeout(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { name?: unknown }).name === 'TimeoutError') return true;
  }
  return false;
}

function redact(text: string, secret: string): string {
  const out = redactSecrets(secret && secret.length >= 4 ? text.split(secret).join('[redacted]') : text);
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}
