import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { classifyStatus, signWebhook } from '../crm/webhook';
import { RESPONSE_EXCERPT_BYTES } from '../db/webhook-outbox';
import { checkWebhookUrl, SsrfError, type SsrfPolicy } from './ssrf';

/** The result of one delivery attempt (never carries the URL, headers or secrets). */
export interface AttemptResult {
  outcome: 'delivered' | 'retry' | 'permanent';
  statusCode: number | null;
  latencyMs: number;
  /** The response body's first {@link RESPONSE_EXCERPT_BYTES} bytes (UTF-8), or null. */
  responseExcerpt: string | null;
  error: string | null;
}

/**
 * The `webhook-signature` header value for several secrets: one `v1,<base64>` entry per secret, space-separated
 * (Standard Webhooks: a receiver accepts the message when any entry verifies — used during a secret rotation).
 * @throws Error from `standardwebhooks` on an invalid secret.
 */
export function signatureHeader(secrets: readonly string[], msgId: string, at: Date, body: string): string {
  return secrets.map((s) => signWebhook(s, msgId, at, body)['webhook-signature']).join(' ');
}

/**
 * Signs and POSTs one event body to `url`. The URL's host is resolved and checked by the SSRF guard first
 * (src/webhooks/ssrf.ts) and the socket connects to a checked address (a custom `lookup` that answers with them):
 * a DNS answer that changes between the check and the connection cannot reach a private address. Redirects are
 * not followed (a 3xx is a retryable failure). Never throws for HTTP, network or SSRF failures: an SSRF refusal is
 * `permanent`; 2xx `delivered`; 408/429/5xx/network/timeout `retry`; other 4xx `permanent`.
 * `now` gives the signing time and the latency clock (ms).
 */
export async function deliverOnce(o: {
  url: string;
  secrets: readonly string[];
  msgId: string;
  body: string;
  policy: SsrfPolicy;
  timeoutMs: number;
  now?: () => number;
}): Promise<AttemptResult> {
  const now = o.now ?? Date.now;
  const t0 = now();
  let addrs: Array<{ address: string; family: number }>;
  try {
    addrs = await checkWebhookUrl(o.url, o.policy);
  } catch (err) {
    const msg = err instanceof SsrfError ? `refused by the SSRF guard: ${err.message}` : 'URL check failed';
    return { outcome: 'permanent', statusCode: null, latencyMs: now() - t0, responseExcerpt: null, error: msg };
  }
  const headers = { ...signWebhook(o.secrets[0], o.msgId, new Date(t0), o.body), 'webhook-signature': signatureHeader(o.secrets, o.msgId, new Date(t0), o.body) };
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as (e: null, a: typeof addrs) => void)(null, addrs);
    else cb(null, addrs[0].address, addrs[0].family);
  };
  const u = new URL(o.url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise<AttemptResult>((resolve) => {
    const done = (r: Omit<AttemptResult, 'latencyMs'>) => resolve({ ...r, latencyMs: now() - t0 });
    const req = mod.request(u, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(o.body), 'user-agent': 'callcenter-ai-webhooks/1' }, lookup, timeout: o.timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < RESPONSE_EXCERPT_BYTES) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const excerpt = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
        const outcome = classifyStatus(status);
        done({ outcome, statusCode: status, responseExcerpt: excerpt || null, error: outcome === 'delivered' ? null : `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`.slice(0, 200) });
      });
      res.on('error', (err) => done({ outcome: 'retry', statusCode: status(res), responseExcerpt: null, error: `response aborted: ${err.message}`.slice(0, 200) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => done({ outcome: 'retry', statusCode: null, responseExcerpt: null, error: `${err.code ?? err.name}: ${err.message}`.replace(/https?:\/\/\S+/g, '<url>').slice(0, 200) }));
    req.end(o.body);
  });
}

const status = (res: http.IncomingMessage) => res.statusCode ?? null;
