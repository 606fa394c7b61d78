import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * Local stand-in for HubSpot's CRM v3 REST API, for tests that drive the real `@hubspot/api-client` v13 with
 * `new Client({ accessToken, basePath: double.base })`. Wire format per /work/shared/PROTOCOLS.md ("HubSpot") and the
 * SDK's generated models: JSON bodies, objects as `{ id, properties, createdAt, updatedAt, archived }`, errors as
 * `{ status: 'error', message, correlationId, category }`.
 *
 * - Auth: `Authorization: Bearer <token>`; missing or another token → 401 `INVALID_AUTHENTICATION`.
 * - `GET /crm/v3/objects/contacts?limit=` → `{ results }`.
 * - `POST /crm/v3/objects/contacts/search` `{ filterGroups: [{ filters: [{ propertyName, operator: 'EQ', value }] }] }`
 *   (groups OR-ed, filters AND-ed; only EQ) → `{ total, results }`.
 * - `POST /crm/v3/objects/contacts` `{ properties }` → 201.
 * - `PATCH /crm/v3/objects/contacts/:id` `{ properties }` → 200; a property not in `contactProperties` → 400
 *   `VALIDATION_ERROR` (HubSpot refuses unknown properties); unknown id → 404.
 * - `POST /crm/v3/objects/calls` `{ properties, associations }` → 201; `hs_timestamp` missing → 400; an association
 *   to an unknown contact → 400.
 * - `fail(status, { times, retryAfterS, path, method })`: the next matching requests (path prefix, method) answer `status` (429 with a
 *   `Retry-After` header in seconds when given), before the auth check's success path.
 * - `hangNext()`: the next request is read but never answered.
 * - `requests`: every request `{ method, path, headers, body, status, at }`.
 */
export interface HubspotRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  status: number;
  /** Date.now() when it was answered (ms). */
  at: number;
}

interface HsObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  associations?: unknown;
}

export interface HubspotDouble {
  base: string;
  requests: HubspotRequest[];
  contacts: Map<string, HsObject>;
  calls: Map<string, HsObject & { associations: unknown }>;
  /** Contact properties PATCH accepts (HubSpot's defaults we use plus `do_not_call`, a custom property). */
  contactProperties: Set<string>;
  fail(status: number, o?: { times?: number; retryAfterS?: number; path?: string; method?: string }): void;
  /** The next request never gets an answer (a hung HubSpot); `status` 0 in `requests`. */
  hangNext(): void;
  close(): Promise<void>;
}

const DEFAULT_CONTACT_PROPS = ['phone', 'mobilephone', 'firstname', 'lastname', 'email', 'do_not_call'];

/** Starts the double on an ephemeral loopback port; `token` is the one private app token it accepts. */
export async function startHubspotDouble(o: { token: string }): Promise<HubspotDouble> {
  const requests: HubspotRequest[] = [];
  const contacts = new Map<string, HsObject>();
  const calls = new Map<string, HsObject & { associations: unknown }>();
  const failures: Array<{ status: number; retryAfterS?: number; path?: string; method?: string }> = [];
  let nextId = 1000;
  let hang = false;
  const contactProperties = new Set(DEFAULT_CONTACT_PROPS);

  const obj = (properties: Record<string, string>): HsObject => {
    const now = new Date().toISOString();
    return { id: String(nextId++), properties: { ...properties, hs_object_id: '', createdate: now }, createdAt: now, updatedAt: now, archived: false };
  };
  const error = (status: number, category: string, message: string) => ({ status: 'error', message, correlationId: randomUUID(), category });

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      let body: any = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body, status, at: Date.now() });
        res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers }).end(JSON.stringify(payload));
      };
      if (hang) {
        hang = false;
        requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body, status: 0, at: Date.now() });
        return;
      }
      const i = failures.findIndex((f) => (!f.path || url.pathname.startsWith(f.path)) && (!f.method || f.method === req.method));
      if (i >= 0) {
        const [f] = failures.splice(i, 1);
        if (f.status === 429)
          return send(429, error(429, 'RATE_LIMITS', 'You have reached your ten_secondly_rolling limit.'), f.retryAfterS !== undefined ? { 'retry-after': String(f.retryAfterS) } : {});
        return send(f.status, error(f.status, 'INTERNAL_ERROR', 'internal error'));
      }
      if (req.headers.authorization !== `Bearer ${o.token}`)
        return send(401, error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.'));
      const p = url.pathname;
      if (req.method === 'GET' && p === '/crm/v3/objects/contacts') {
        const limit = Number(url.searchParams.get('limit') ?? 10);
        return send(200, { results: [...contacts.values()].slice(0, limit) });
      }
      if (req.method === 'POST' && p === '/crm/v3/objects/contacts/search') {
        const groups: Array<{ filters: Array<{ propertyName: string; operator: string; value: string }> }> = body?.filterGroups ?? [];
        if (groups.some((g) => g.filters.some((f) => f.operator !== 'EQ'))) return send(400, error(400, 'VALIDATION_ERROR', 'only EQ is supported by the double'));
        const hits = [...contacts.values()].filter((c) => groups.some((g) => g.filters.every((f) => c.properties[f.propertyName] === f.value)));
        return send(200, { total: hits.length, results: hits.slice(0, body?.limit ?? 10) });
      }
      if (req.method === 'POST' && p === '/crm/v3/objects/contacts') {
        const c = obj(body?.properties ?? {});
        c.properties.hs_object_id = c.id;
        contacts.set(c.id, c);
        return send(201, c);
      }
      const patch = /^\/crm\/v3\/objects\/contacts\/([^/]+)$/.exec(p);
      if (req.method === 'PATCH' && patch) {
        const c = contacts.get(patch[1]);
        if (!c) return send(404, error(404, 'OBJECT_NOT_FOUND', 'resource not found'));
        const bad = Object.keys(body?.properties ?? {}).filter((k) => !contactProperties.has(k));
        if (bad.length) return send(400, error(400, 'VALIDATION_ERROR', `Property values were not valid: [{"isValid":false,"message":"Property \\"${bad[0]}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${bad[0]}"}]`));
        Object.assign(c.properties, body.properties);
        c.updatedAt = new Date().toISOString();
        return send(200, c);
      }
      if (req.method === 'POST' && p === '/crm/v3/objects/calls') {
        if (!body?.properties?.hs_timestamp) return send(400, error(400, 'VALIDATION_ERROR', 'Property values were not valid: hs_timestamp is required'));
        for (const a of body.associations ?? []) {
          if (!contacts.has(String(a?.to?.id))) return send(400, error(400, 'VALIDATION_ERROR', `association target ${a?.to?.id} not found`));
        }
        const c = { ...obj(body.properties), associations: body.associations ?? [] };
        calls.set(c.id, c);
        return send(201, { id: c.id, properties: c.properties, createdAt: c.createdAt, updatedAt: c.updatedAt, archived: false });
      }
      return send(404, error(404, 'OBJECT_NOT_FOUND', `no route ${req.method} ${p}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    contacts,
    calls,
    contactProperties,
    fail(status, f = {}) {
      for (let n = 0; n < (f.times ?? 1); n++) failures.push({ status, retryAfterS: f.retryAfterS, path: f.path, method: f.method });
    },
    hangNext() {
      hang = true;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
