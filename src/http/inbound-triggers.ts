import { createHash } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Knex } from 'knex';
import type { DialerPort } from '../campaigns/dialer-port';
import { importContacts, normalisePhone } from '../campaigns/contact-import';
import { CampaignsRepo } from '../db/campaigns';
import { InboundTriggersRepo, type InboundTrigger, type TriggerMapping } from '../db/inbound-triggers';
import { verifyHubSpotV3, verifyStandardWebhook } from '../webhooks/inbound-signatures';
import type { SecretBox } from '../webhooks/secret-box';
import { ApiError } from './api/route';
import { placeSingleCall } from './api/single-call';

/** Largest accepted inbound trigger body (bytes). */
export const INBOUND_TRIGGER_MAX_BYTES = 256 * 1024;
const IMPORT_STATES = new Set(['draft', 'running', 'paused']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboundTriggersRouterDeps {
  db: Knex;
  /** Opens the sealed trigger secrets; null (no WEBHOOK_SECRETS_KEY) → every request 503. */
  box: SecretBox | null;
  /** PUBLIC_BASE_URL without a trailing slash: the HubSpot v3 signature covers the URI HubSpot called. */
  publicBaseUrl: string;
  dialer?: DialerPort;
  /** Rate limit applied to both receivers (e.g. src/http/auth/rate-limit.ts `requestRateLimit` by IP). */
  rateLimit?: RequestHandler;
  /** Clock (ms since the epoch); default Date.now. */
  now?: () => number;
}

/** The value at dotted `path` in `body` (`properties.phone`, `items.0.phone`), as a string; undefined when absent. */
export function valueAt(body: unknown, path: string): string | undefined {
  let cur: unknown = body;
  for (const part of path.replace(/^\//, '').split(/[./]/)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  // HubSpot webhook payloads may carry `{ value: … }` property objects.
  if (cur && typeof cur === 'object' && 'value' in (cur as object)) cur = (cur as { value: unknown }).value;
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return undefined;
}

/** The contact fields of a payload per the trigger's mapping. */
function mapped(body: unknown, m: TriggerMapping): { phone?: string; name?: string; variables: Record<string, string> } {
  const variables: Record<string, string> = {};
  for (const [k, p] of Object.entries(m.variables ?? {})) {
    const v = valueAt(body, p);
    if (v !== undefined && v !== '') variables[k] = v.slice(0, 2000);
  }
  return { phone: valueAt(body, m.phone), name: m.name ? valueAt(body, m.name) : undefined, variables };
}

/**
 * Inbound triggers (issue 13 §6), signature-verified instead of authenticated:
 *
 * - `POST /integrations/hubspot/webhook?trigger=<id>`: a HubSpot workflow "send a webhook" action. Verified with
 *   `X-HubSpot-Signature-v3` over `POST` + `PUBLIC_BASE_URL + req.originalUrl` (the URI HubSpot called, query
 *   included — so the trigger id is signed) + raw body + `X-HubSpot-Request-Timestamp` (≤ 5 min old). Deduped for 24 h
 *   by the payload's `eventId` when present, else by the SHA-256 of the body.
 * - `POST /integrations/webhooks/:triggerId`: any Standard Webhooks sender (`webhook-id`, `webhook-timestamp`,
 *   `webhook-signature`, 5 min tolerance), deduped for 24 h by `webhook-id`.
 *
 * Then the trigger's action runs: `enroll` imports the mapped contact into the campaign (src/campaigns/contact-import.ts:
 * E.164, zones, DNC → stored `suppressed`), `call` places a call via {@link placeSingleCall} with the idempotency key
 * `trigger:<id>:<delivery key>`. Answers: 200 `{ ok, action, … }`; a duplicate replays the first answer with
 * `duplicate: true`; 401 `{ error }` with a short reason on a bad/missing signature or stale timestamp; 404 unknown or
 * disabled trigger (or of the other kind); 409 campaign not accepting contacts (or a refused dial); 413 body too
 * big; 422 mapped phone missing/invalid or body not JSON; 503 no secrets key. The body is read raw here (no JSON
 * parser runs before these routes). A failure that is not the sender's fault (5xx) releases the dedupe claim so
 * the sender's retry runs the action.
 */
export function createInboundTriggersRouter(d: InboundTriggersRouterDeps): Router {
  const router = express.Router();
  const triggers = new InboundTriggersRepo(d.db);
  const campaigns = new CampaignsRepo(d.db);
  const now = d.now ?? Date.now;
  const raw = express.raw({ type: () => true, limit: INBOUND_TRIGGER_MAX_BYTES });
  const limit: RequestHandler = d.rateLimit ?? ((_req, _res, next) => next());

  const load = async (id: string | undefined, kind: InboundTrigger['kind']): Promise<InboundTrigger | null> => {
    if (!id || !UUID.test(id)) return null;
    const t = await triggers.get(id);
    return t && t.enabled && t.kind === kind ? t : null;
  };

  const run = async (t: InboundTrigger, deliveryKey: string, rawBody: Buffer): Promise<{ status: number; body: Record<string, unknown> }> => {
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { status: 422, body: { error: 'body is not JSON' } };
    }
    const m = mapped(payload, t.mapping);
    if (!m.phone) return { status: 422, body: { error: `no phone number at ${t.mapping.phone}` } };
    if (t.action.type === 'enroll') {
      const campaign = await campaigns.get(t.action.campaignId);
      if (!campaign) return { status: 409, body: { error: `campaign ${t.action.campaignId} no longer exists` } };
      if (!IMPORT_STATES.has(campaign.state)) return { status: 409, body: { error: `campaign ${campaign.id} is ${campaign.state} and does not accept contacts` } };
      const parsed = normalisePhone(m.phone, campaign.defaultRegion);
      if ('reason' in parsed) return { status: 422, body: { error: `phone at ${t.mapping.phone}: ${parsed.reason}` } };
      const r = await importContacts(d.db, campaign, [{ line: 1, phone: m.phone, name: m.name, variables: m.variables }]);
      if (r.rejectedCount) return { status: 422, body: { error: r.rejected[0]?.reason ?? 'contact rejected' } };
      return { status: 200, body: { ok: true, action: 'enroll', campaignId: campaign.id, phone: parsed.number.number, suppressed: r.suppressed > 0 } };
    }
    const parsed = normalisePhone(m.phone, null);
    if ('reason' in parsed) return { status: 422, body: { error: `phone at ${t.mapping.phone}: ${parsed.reason}` } };
    try {
      const res = await placeSingleCall(d, `trigger:${t.id}:${deliveryKey}`.slice(0, 200), {
        to: parsed.number.number,
        agentId: t.action.agentId,
        from: t.action.fromNumber,
        variables: Object.keys(m.variables).length ? m.variables : undefined,
      });
      // A refusal the API answers as a reply (the agent has no number to call from) is the trigger's configuration,
      // not a call: 409 with its message, like any refused dial.
      if (res.status >= 300) return { status: 409, body: { error: String((res.body as { error?: unknown } | undefined)?.error ?? 'the call was refused') } };
      return { status: 200, body: { ok: true, action: 'call', ...(res.body as Record<string, unknown>) } };
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) return { status: err.status === 404 ? 409 : err.status, body: { error: err.message } };
      // Twilio refused (502) or no dialer (503): that status and its message (the dedupe claim is released: a retry runs).
      if (err instanceof ApiError) return { status: err.status, body: { error: err.message } };
      throw err;
    }
  };

  const answer = async (res: Response, t: InboundTrigger, deliveryKey: string, rawBody: Buffer): Promise<void> => {
    if (!(await triggers.claimDelivery(t.id, deliveryKey, new Date(now())))) {
      const prior = await triggers.outcome(t.id, deliveryKey);
      if (!prior) {
        res.status(409).json({ error: 'this delivery is being processed' });
        return;
      }
      res.status(prior.status).json({ ...(prior.body as object), duplicate: true });
      return;
    }
    let out: { status: number; body: Record<string, unknown> };
    try {
      out = await run(t, deliveryKey, rawBody);
    } catch (err) {
      await triggers.releaseDelivery(t.id, deliveryKey);
      throw err;
    }
    if (out.status >= 500) await triggers.releaseDelivery(t.id, deliveryKey);
    else await triggers.recordOutcome(t.id, deliveryKey, out);
    res.status(out.status).json(out.body);
  };

  const body = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

  router.post('/integrations/hubspot/webhook', limit, raw, async (req, res, next) => {
    try {
      if (!d.box) return void res.status(503).json({ error: 'inbound triggers need WEBHOOK_SECRETS_KEY' });
      const t = await load(typeof req.query.trigger === 'string' ? req.query.trigger : undefined, 'hubspot');
      if (!t) return void res.status(404).json({ error: 'no such HubSpot trigger (check ?trigger=<id>)' });
      const rawBody = body(req);
      const reason = verifyHubSpotV3(
        {
          secret: d.box.open(t.secretSealed),
          method: req.method,
          uri: `${d.publicBaseUrl}${req.originalUrl}`,
          rawBody,
          signature: req.get('x-hubspot-signature-v3'),
          timestamp: req.get('x-hubspot-request-timestamp'),
        },
        now(),
      );
      if (reason) return void res.status(401).json({ error: reason });
      let eventId: string | undefined;
      try {
        const p = JSON.parse(rawBody.toString('utf8'));
        const first = Array.isArray(p) ? p[0] : p;
        if (first && (typeof first.eventId === 'string' || typeof first.eventId === 'number')) eventId = String(first.eventId);
      } catch {
        // not JSON: run() answers 422
      }
      const key = eventId ? `event:${eventId}` : `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
      await answer(res, t, key, rawBody);
    } catch (err) {
      next(err);
    }
  });

  router.post('/integrations/webhooks/:triggerId', limit, raw, async (req, res, next) => {
    try {
      if (!d.box) return void res.status(503).json({ error: 'inbound triggers need WEBHOOK_SECRETS_KEY' });
      const t = await load(String(req.params.triggerId), 'standard');
      if (!t) return void res.status(404).json({ error: 'no such trigger' });
      const rawBody = body(req);
      const id = req.get('webhook-id');
      const reason = verifyStandardWebhook(
        { secret: d.box.open(t.secretSealed), rawBody, id, timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature') },
        now(),
      );
      if (reason) return void res.status(401).json({ error: reason });
      await answer(res, t, `id:${String(id).slice(0, 190)}`, rawBody);
    } catch (err) {
      next(err);
    }
  });

  return router;
}
