import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-in for a Salesforce org's REST API, for tests that drive `jsforce` 3 with
 * `instanceUrl: double.instanceUrl`. Wire format per /work/shared/PROTOCOLS.md ("Salesforce") and the REST API docs:
 *
 * - `GET /services/data/vXX.X/search?q=<SOSL>` → `{ searchRecords: [{ attributes: { type, url }, Id }] }`. The double
 *   understands `FIND {term} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)`: it unescapes the term's backslash
 *   escapes and matches records whose stored `Phone`/`MobilePhone` equals it exactly (Salesforce's phone search also
 *   matches formats, a refinement the double does not model). A term with an unescaped reserved character → 400
 *   `MALFORMED_SEARCH`.
 * - `GET /services/data/vXX.X/query?q=<SOQL>` → `{ totalSize, done: true, records }`; understands
 *   `SELECT … FROM Task WHERE CallObject = '<value>' LIMIT n` only (else 400 `MALFORMED_QUERY`).
 * - `POST /services/data/vXX.X/sobjects/<Type>/` (JSON) → 201 `{ id, success: true, errors: [] }`.
 * - `PATCH /services/data/vXX.X/sobjects/<Type>/<Id>` → 204; unknown id → 404 `NOT_FOUND`.
 * - `GET /services/data/vXX.X/limits` → `{ DailyApiRequests: { Max, Remaining } }`.
 *
 * Auth: `Authorization: Bearer <accessToken>`; otherwise 401 `[{"message":"Session expired or invalid","errorCode":
 * "INVALID_SESSION_ID"}]`. Errors are Salesforce-shaped `[{ message, errorCode }]` JSON arrays. Scripted steps answer
 * the next request(s) with a status (429 `REQUEST_LIMIT_EXCEEDED` + optional `Retry-After`, 503 `SERVER_UNAVAILABLE`,
 * 403 `INSUFFICIENT_ACCESS`, …) before any processing.
 *
 * ```ts
 * const sf = await startSalesforceDouble({ accessToken: 'tok' });
 * sf.addRecord('Contact', { Phone: '+14155550123' });   // → Id
 * sf.script({ status: 429, retryAfter: 7 });
 * sf.requests; sf.records('Task');
 * await sf.close();
 * ```
 */

export interface SalesforceStep {
  status: number;
  errorCode?: string;
  message?: string;
  retryAfter?: number;
}

export interface SalesforceRequest {
  method: string;
  /** Path without query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: any;
  status: number;
}

export interface SalesforceDouble {
  /** `http://127.0.0.1:<port>` — pass as jsforce `instanceUrl`. */
  instanceUrl: string;
  requests: SalesforceRequest[];
  /** Adds a record; returns its 18-char-ish Id (`003…` Contact, `00Q…` Lead, `00T…` Task). */
  addRecord(type: string, fields: Record<string, unknown>): string;
  records(type: string): Array<Record<string, unknown> & { Id: string }>;
  /** The next `times` requests answer with `step`. */
  script(step: SalesforceStep, times?: number): void;
  close(): Promise<void>;
}

const PREFIX: Record<string, string> = { Contact: '003', Lead: '00Q', Task: '00T', Account: '001' };
const DEFAULT_CODES: Record<number, [string, string]> = {
  400: ['INVALID_FIELD', 'Bad request'],
  401: ['INVALID_SESSION_ID', 'Session expired or invalid'],
  403: ['INSUFFICIENT_ACCESS', 'insufficient access rights on object id'],
  404: ['NOT_FOUND', 'The requested resource does not exist'],
  429: ['REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'],
  500: ['UNKNOWN_EXCEPTION', 'An unexpected error occurred.'],
  503: ['SERVER_UNAVAILABLE', 'Server temporarily unavailable.'],
};

export async function startSalesforceDouble(opts: { accessToken: string }): Promise<SalesforceDouble> {
  const store = new Map<string, Array<Record<string, unknown> & { Id: string }>>();
  const steps: SalesforceStep[] = [];
  const requests: SalesforceRequest[] = [];
  let seq = 0;

  const addRecord = (type: string, fields: Record<string, unknown>): string => {
    seq += 1;
    const id = `${PREFIX[type] ?? '0XX'}5g00000${String(seq).padStart(8, '0')}`;
    const list = store.get(type) ?? [];
    list.push({ ...fields, Id: id });
    store.set(type, list);
    return id;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const rec: SalesforceRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        status: 0,
      };
      requests.push(rec);
      const send = (status: number, payload?: unknown, extra: Record<string, string> = {}): void => {
        rec.status = status;
        if (payload === undefined) {
          res.writeHead(status, extra).end();
          return;
        }
        res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...extra }).end(JSON.stringify(payload));
      };
      const fail = (status: number, errorCode?: string, message?: string, extra: Record<string, string> = {}): void => {
        const [c, m] = DEFAULT_CODES[status] ?? ['UNKNOWN_EXCEPTION', 'Error'];
        send(status, [{ message: message ?? m, errorCode: errorCode ?? c }], extra);
      };

      if (req.headers.authorization !== `Bearer ${opts.accessToken}`) return fail(401);
      const step = steps.shift();
      if (step) {
        return fail(step.status, step.errorCode, step.message, step.retryAfter !== undefined ? { 'Retry-After': String(step.retryAfter) } : {});
      }
      const m = /^\/services\/data\/v(\d+\.\d)(\/.*)$/.exec(url.pathname);
      if (!m) return fail(404);
      const rest = m[2];
      const method = req.method ?? 'GET';

      if (method === 'GET' && rest === '/limits') {
        return send(200, { DailyApiRequests: { Max: 15000, Remaining: 14990 } });
      }
      if (method === 'GET' && rest === '/search') {
        const q = url.searchParams.get('q') ?? '';
        const f = /^FIND \{((?:\\.|[^\\}])*)\} IN PHONE FIELDS RETURNING (.+)$/.exec(q);
        if (!f) return fail(400, 'MALFORMED_SEARCH', 'unsupported SOSL in the double');
        const escaped = f[1];
        if (/(^|[^\\])[?&|!{}[\]()^~*:"'+-]/.test(escaped.replace(/\\\\/g, ''))) {
          return fail(400, 'MALFORMED_SEARCH', 'reserved character not escaped');
        }
        const term = escaped.replace(/\\(.)/g, '$1');
        const types = [...f[2].matchAll(/(\w+)\(Id\)/g)].map((x) => x[1]);
        const searchRecords = types.flatMap((t) =>
          (store.get(t) ?? [])
            .filter((r) => r.Phone === term || r.MobilePhone === term)
            .map((r) => ({ attributes: { type: t, url: `/services/data/v${m[1]}/sobjects/${t}/${r.Id}` }, Id: r.Id })),
        );
        return send(200, { searchRecords });
      }
      if (method === 'GET' && rest === '/query') {
        const q = url.searchParams.get('q') ?? '';
        const s = /^SELECT ([\w, ]+) FROM Task WHERE CallObject = '((?:\\.|[^\\'])*)' LIMIT (\d+)$/.exec(q);
        if (!s) return fail(400, 'MALFORMED_QUERY', 'unsupported SOQL in the double');
        const value = s[2].replace(/\\(.)/g, '$1');
        const fields = s[1].split(',').map((x) => x.trim());
        const records = (store.get('Task') ?? [])
          .filter((t) => t.CallObject === value)
          .slice(0, Number(s[3]))
          .map((t) => ({
            attributes: { type: 'Task', url: `/services/data/v${m[1]}/sobjects/Task/${t.Id}` },
            ...Object.fromEntries(fields.map((k) => [k, t[k] ?? null])),
          }));
        return send(200, { totalSize: records.length, done: true, records });
      }
      const so = /^\/sobjects\/(\w+)\/?([\w]*)$/.exec(rest);
      if (so && method === 'POST' && !so[2]) {
        if (!body || typeof body !== 'object') return fail(400, 'JSON_PARSER_ERROR', 'body must be a JSON object');
        if (body.CallDisposition && String(body.CallDisposition).length > 255) {
          return fail(400, 'STRING_TOO_LONG', 'Call Result: data value too large');
        }
        return send(201, { id: addRecord(so[1], body), success: true, errors: [] });
      }
      if (so && method === 'PATCH' && so[2]) {
        const r = (store.get(so[1]) ?? []).find((x) => x.Id === so[2]);
        if (!r) return fail(404, 'NOT_FOUND', 'Provided external ID field does not exist or is not accessible');
        Object.assign(r, body ?? {});
        return send(204);
      }
      return fail(404);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    instanceUrl: `http://127.0.0.1:${port}`,
    requests,
    addRecord,
    records: (type) => store.get(type) ?? [],
    script: (step, times = 1) => {
      for (let i = 0; i < times; i += 1) steps.push(step);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
