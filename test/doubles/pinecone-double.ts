import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-in for a Pinecone serverless index's data plane (the "index host"), for tests that drive the official
 * `@pinecone-database/pinecone` v8 SDK via `pc.index({ host: double.host })` (an explicit `http://` host — the SDK
 * prefixes `https://` to a bare one). Wire format per /work/shared/PROTOCOLS.md ("Pinecone") and the SDK's generated
 * client (`db_data` API version 2026-04): JSON bodies, camelCase fields (`topK`, `includeMetadata`), headers
 * `Api-Key` and `X-Pinecone-Api-Version`.
 *
 * Endpoints (all `POST` with a JSON body unless noted):
 * - `/vectors/upsert` `{ vectors: [{ id, values, metadata? }], namespace }` → `{ upsertedCount }`. Limits as
 *   documented by Pinecone: ≤ 1000 vectors and ≤ 2 MB per request; metadata values string | number | boolean |
 *   string[]; all vectors of an index share one dimension (`dimension` option, else fixed by the first upsert).
 * - `/query` `{ vector, topK (1..10000), namespace, filter?, includeMetadata?, includeValues? }` →
 *   `{ results: [], matches: [{ id, score, values, metadata? }], namespace, usage: { readUnits } }`, best first.
 *   `score` is the cosine similarity of the raw vectors (the index metric is cosine).
 * - `/vectors/delete` `{ namespace, ids? | filter? | deleteAll? }` → `{}` (exactly one selector, as the API requires).
 * - `/describe_index_stats` (`POST` with `{ filter? }`, or `GET`) → `{ namespaces: { ns: { vectorCount } },
 *   dimension, indexFullness, totalVectorCount, metric, vectorType }`.
 *
 * Metadata filters: field conditions `{ f: { $eq | $ne | $gt | $gte | $lt | $lte | $in | $nin | $exists: v } }`,
 * a bare value as `$eq` shorthand, several fields = implicit AND, `$and` / `$or` arrays. An unknown operator or a
 * malformed filter → 400. Errors are Pinecone-shaped JSON `{ code, message, details: [] }` (gRPC status codes);
 * a missing or wrong `Api-Key` → 401. Writes are visible immediately (real Pinecone is eventually consistent).
 *
 * ```ts
 * const pine = await startPineconeDouble({ apiKey: 'pc-test' });
 * const index = new Pinecone({ apiKey: 'pc-test', maxRetries: 0 }).index({ host: pine.host });
 * pine.script({ kind: 'status', status: 429 });                 // next request → 429
 * pine.script({ kind: 'status', status: 500 }, 2, '/query');    // next two queries → 500
 * pine.script({ kind: 'raw', status: 200, body: '<html>' });    // malformed body
 * pine.script({ kind: 'hang' });                                // never answers
 * pine.requests;   // [{ method, path, query, headers, body, status, clientClosed }]
 * pine.vectors('ns');  // what the namespace holds
 * await pine.close();
 * ```
 */

/** One scripted behaviour for one request. */
export type PineconeStep =
  /** Answer with this status and a Pinecone-shaped error body (or `body`, JSON-encoded). */
  | { kind: 'status'; status: number; body?: unknown }
  /** Answer with this status and this exact body text, `Content-Type: application/json`. */
  | { kind: 'raw'; status: number; body: string }
  /** Read the request and never answer. */
  | { kind: 'hang' };

export interface PineconeRequest {
  method: string;
  /** URL path without the query. */
  path: string;
  query: Record<string, string>;
  /** Request headers as Node parsed them (names lower-cased: `api-key`, `x-pinecone-api-version`). */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when absent or not JSON). */
  body: any;
  /** Status sent (0 when none was sent). */
  status: number;
  step?: PineconeStep;
  /** The client closed the connection before the response was sent (abort / timeout). */
  clientClosed: boolean;
}

/** A stored record. */
export interface PineconeStoredVector {
  id: string;
  values: number[];
  metadata?: Record<string, unknown>;
}

export interface PineconeDoubleOptions {
  /** Accepted `Api-Key`; when unset any non-empty key is accepted. */
  apiKey?: string;
  /** Index dimension; when unset the first upsert fixes it. */
  dimension?: number;
}

export interface PineconeDouble {
  /** `http://127.0.0.1:<port>` — pass as `pc.index({ host })`. */
  host: string;
  /** Every request received, in arrival order. */
  requests: PineconeRequest[];
  /** Queues `step` for the next `times` requests (default 1) — only requests to `path` when given. */
  script(step: PineconeStep, times?: number, path?: string): void;
  /** Records of a namespace, sorted by id. */
  vectors(namespace: string): PineconeStoredVector[];
  /** Stops the server, closing open connections. */
  close(): Promise<void>;
}

const MAX_BODY = 2 * 1024 * 1024;
const MAX_UPSERT = 1000;
const MAX_TOP_K = 10_000;
const MAX_METADATA_BYTES = 40 * 1024;

/** A request error answered with `status` and Pinecone's error shape. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** gRPC status code Pinecone puts in `code` for an HTTP status. */
function grpcCode(status: number): number {
  return ({ 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 503: 14 } as Record<number, number>)[status] ?? 2;
}

function errorBody(status: number, message?: string) {
  const defaults: Record<number, string> = {
    401: 'Invalid API Key',
    429: 'Request failed. You have reached the request rate limit for this index.',
    500: 'Internal error',
    503: 'Service unavailable',
  };
  return { code: grpcCode(status), message: message ?? defaults[status] ?? `HTTP ${status}`, details: [] };
}

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';

/** Does `meta` satisfy Pinecone filter `filter`? @throws HttpError 400 on a malformed filter. */
export function matchesFilter(meta: Record<string, unknown> | undefined, filter: unknown): boolean {
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) throw new HttpError(400, 'filter must be an object');
  return Object.entries(filter as Record<string, unknown>).every(([key, cond]) => {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond) || cond.length === 0) throw new HttpError(400, `${key} needs a non-empty array`);
      return key === '$and' ? cond.every((c) => matchesFilter(meta, c)) : cond.some((c) => matchesFilter(meta, c));
    }
    if (key.startsWith('$')) throw new HttpError(400, `unknown top-level operator ${key}`);
    const value = meta?.[key];
    if (isScalar(cond)) return fieldEq(value, cond);
    if (!cond || typeof cond !== 'object' || Array.isArray(cond)) throw new HttpError(400, `bad condition for field ${key}`);
    return Object.entries(cond as Record<string, unknown>).every(([op, arg]) => fieldOp(key, value, op, arg));
  });
}

/** `$eq` semantics: scalars compare by value; a list field matches when it contains the value. */
function fieldEq(value: unknown, arg: Scalar): boolean {
  if (Array.isArray(value)) return value.includes(arg);
  return value === arg;
}

function fieldOp(key: string, value: unknown, op: string, arg: unknown): boolean {
  switch (op) {
    case '$eq':
    case '$ne': {
      if (!isScalar(arg)) throw new HttpError(400, `${op} on ${key} needs a string, number or boolean`);
      const eq = fieldEq(value, arg);
      return op === '$eq' ? eq : value !== undefined && !eq;
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof arg !== 'number') throw new HttpError(400, `${op} on ${key} needs a number`);
      if (typeof value !== 'number') return false;
      return op === '$gt' ? value > arg : op === '$gte' ? value >= arg : op === '$lt' ? value < arg : value <= arg;
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(arg) || !arg.every(isScalar)) throw new HttpError(400, `${op} on ${key} needs an array of scalars`);
      const hit = arg.some((a) => fieldEq(value, a));
      return op === '$in' ? hit : value !== undefined && !hit;
    }
    case '$exists':
      if (typeof arg !== 'boolean') throw new HttpError(400, `$exists on ${key} needs a boolean`);
      return (value !== undefined) === arg;
    default:
      throw new HttpError(400, `unknown operator ${op} on field ${key}`);
  }
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

function checkValues(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new HttpError(400, `${what} must be a non-empty array of finite numbers`);
  }
  return v as number[];
}

function checkMetadata(m: unknown, id: string): Record<string, unknown> | undefined {
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) throw new HttpError(400, `metadata of ${id} must be an object`);
  for (const [k, v] of Object.entries(m)) {
    if (!(isScalar(v) || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) {
      throw new HttpError(400, `Metadata value for field ${k} must be a string, number, boolean or list of strings`);
    }
  }
  if (Buffer.byteLength(JSON.stringify(m)) > MAX_METADATA_BYTES) throw new HttpError(400, `Metadata size of ${id} exceeds the limit of 40960 bytes`);
  return Object.keys(m).length ? { ...(m as Record<string, unknown>) } : undefined;
}

/** Starts the double on 127.0.0.1 with an ephemeral port. See the module documentation. */
export async function startPineconeDouble(o: PineconeDoubleOptions = {}): Promise<PineconeDouble> {
  const requests: PineconeRequest[] = [];
  const queue: Array<{ step: PineconeStep; path?: string }> = [];
  const spaces = new Map<string, Map<string, PineconeStoredVector>>();
  let dimension = o.dimension;

  const space = (ns: string) => {
    let s = spaces.get(ns);
    if (!s) spaces.set(ns, (s = new Map()));
    return s;
  };
  const nsOf = (body: any): string => {
    const ns = body?.namespace ?? '';
    if (typeof ns !== 'string') throw new HttpError(400, 'namespace must be a string');
    return ns;
  };
  const checkDim = (values: number[]) => {
    if (dimension === undefined) dimension = values.length;
    if (values.length !== dimension) throw new HttpError(400, `Vector dimension ${values.length} does not match the dimension of the index ${dimension}`);
  };

  const handlers: Record<string, (body: any) => unknown> = {
    'POST /vectors/upsert': (body) => {
      const vectors = body?.vectors;
      if (!Array.isArray(vectors) || vectors.length === 0) throw new HttpError(400, 'vectors must be a non-empty array');
      if (vectors.length > MAX_UPSERT) throw new HttpError(400, `Upsert request exceeds the limit of ${MAX_UPSERT} vectors, got ${vectors.length}`);
      const ns = nsOf(body);
      const parsed = vectors.map((v: any) => {
        if (typeof v?.id !== 'string' || !v.id || v.id.length > 512) throw new HttpError(400, 'every vector needs an id of 1-512 characters');
        const values = checkValues(v.values, `values of ${v.id}`);
        checkDim(values);
        return { id: v.id, values: [...values], metadata: checkMetadata(v.metadata, v.id) };
      });
      const s = space(ns);
      for (const v of parsed) s.set(v.id, v);
      return { upsertedCount: parsed.length };
    },
    'POST /query': (body) => {
      const ns = nsOf(body);
      const topK = body?.topK;
      if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) throw new HttpError(400, `topK must be an integer in 1..${MAX_TOP_K}`);
      if (body.id !== undefined) throw new HttpError(400, 'query by id is not supported by this double');
      const vector = checkValues(body.vector, 'vector');
      if (dimension !== undefined && vector.length !== dimension) throw new HttpError(400, `Query vector dimension ${vector.length} does not match the dimension of the index ${dimension}`);
      const filter = body.filter;
      const candidates = [...(spaces.get(ns)?.values() ?? [])].filter((v) => filter === undefined || matchesFilter(v.metadata, filter));
      const matches = candidates
        .map((v) => ({ v, score: cosine(vector, v.values) }))
        .sort((a, b) => b.score - a.score || (a.v.id < b.v.id ? -1 : 1))
        .slice(0, topK)
        .map(({ v, score }) => ({
          id: v.id,
          score,
          values: body.includeValues ? v.values : [],
          ...(body.includeMetadata && v.metadata ? { metadata: v.metadata } : {}),
        }));
      return { results: [], matches, namespace: ns, usage: { readUnits: Math.max(1, Math.ceil(candidates.length / 100)) } };
    },
    'POST /vectors/delete': (body) => {
      const ns = nsOf(body);
      const selectors = ['ids', 'filter', 'deleteAll'].filter((k) => body?.[k] !== undefined && body[k] !== false);
      if (selectors.length !== 1) throw new HttpError(400, 'Exactly one of ids, filter or deleteAll must be provided');
      const s = spaces.get(ns);
      if (body.deleteAll) spaces.delete(ns);
      else if (body.ids) {
        if (!Array.isArray(body.ids) || body.ids.length === 0 || body.ids.length > 1000) throw new HttpError(400, 'ids must hold 1..1000 ids');
        for (const id of body.ids) s?.delete(id);
      } else {
        if (!body.filter || typeof body.filter !== 'object' || Object.keys(body.filter).length === 0) throw new HttpError(400, 'filter must be a non-empty object');
        for (const [id, v] of [...(s?.entries() ?? [])]) if (matchesFilter(v.metadata, body.filter)) s!.delete(id);
      }
      return {};
    },
    'POST /describe_index_stats': (body) => stats(body?.filter),
    'GET /describe_index_stats': () => stats(undefined),
  };

  const stats = (filter: unknown) => {
    const namespaces: Record<string, { vectorCount: number }> = {};
    let total = 0;
    for (const [ns, s] of spaces) {
      const n = [...s.values()].filter((v) => filter === undefined || matchesFilter(v.metadata, filter)).length;
      if (s.size) namespaces[ns] = { vectorCount: n };
      total += n;
    }
    return { namespaces, dimension: dimension ?? 0, indexFullness: 0, totalVectorCount: total, metric: 'cosine', vectorType: 'dense' };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size <= MAX_BODY + 1) chunks.push(c); });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      let badJson = false;
      try { body = raw ? JSON.parse(raw) : undefined; } catch { badJson = true; }
      const rec: PineconeRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, status: 0, clientClosed: false };
      requests.push(rec);
      res.on('error', () => undefined);
      res.on('close', () => { if (!res.writableFinished) rec.clientClosed = true; });
      const send = (status: number, payload: unknown, rawText?: string) => {
        rec.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(rawText ?? JSON.stringify(payload));
      };
      const key = req.headers['api-key'];
      if (typeof key !== 'string' || !key || (o.apiKey !== undefined && key !== o.apiKey)) return send(401, errorBody(401));
      const qi = queue.findIndex((q) => q.path === undefined || q.path === url.pathname);
      if (qi >= 0) {
        const [{ step }] = queue.splice(qi, 1);
        rec.step = step;
        if (step.kind === 'hang') return;
        if (step.kind === 'raw') return send(step.status, undefined, step.body);
        return send(step.status, step.body ?? errorBody(step.status));
      }
      const handler = handlers[`${req.method} ${url.pathname}`];
      if (!handler) return send(404, errorBody(404, `Not found: ${req.method} ${url.pathname}`));
      if (size > MAX_BODY) return send(400, errorBody(400, `Request size ${size} bytes exceeds the maximum supported size of ${MAX_BODY} bytes`));
      if (badJson) return send(400, errorBody(400, 'Request body is not valid JSON'));
      try {
        send(200, handler(body));
      } catch (err) {
        if (err instanceof HttpError) return send(err.status, errorBody(err.status, err.message));
        send(500, errorBody(500));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));

  return {
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    script(step, times = 1, path) {
      for (let i = 0; i < times; i++) queue.push({ step, path });
    },
    vectors(ns) {
      return [...(spaces.get(ns)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1)).map((v) => ({ ...v, values: [...v.values] }));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
