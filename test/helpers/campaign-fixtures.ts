import { randomUUID } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import type { Knex } from 'knex';
import { listen } from './http';
import { CallsRepo } from '../../src/db/calls';
import { createOutboundStatusRouter } from '../../src/http/routes/twilio-outbound-status';
import type { CallingWindow, RetryPolicy } from '../../src/domain/campaign';

/** Every day, all day (00:00–23:59 local). */
export const ALWAYS: CallingWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59', blackoutDates: [] };
export const TEST_RETRY: RetryPolicy = { maxAttempts: 3, delaysSeconds: { busy: [600, 1_200], noAnswer: [900], failed: [300], voicemail: [3_600] } };

/** Inserts an agent (if missing) and a running campaign; returns its id. */
export async function makeCampaign(
  db: Knex,
  o: { maxConcurrent?: number; cps?: number; window?: CallingWindow; retry?: RetryPolicy; callerIds?: { number: string; dailyCap: number | null }[]; state?: string } = {},
): Promise<string> {
  const agentId = 'agent-dispatch-test';
  await db('agents')
    .insert({ id: agentId, name: 'Dispatch test', system_prompt: 'x', first_message: 'Hello', default_language: 'en', languages: ['en'], is_default: false })
    .onConflict('id')
    .ignore();
  const id = `cmp_${randomUUID().slice(0, 12)}`;
  await db('campaigns').insert({
    id,
    name: id,
    agent_id: agentId,
    state: o.state ?? 'running',
    caller_ids: JSON.stringify(o.callerIds ?? [{ number: '+15550000001', dailyCap: null }]),
    window: JSON.stringify(o.window ?? ALWAYS),
    max_concurrent: o.maxConcurrent ?? 3,
    cps: o.cps ?? 1,
    retry: JSON.stringify(o.retry ?? TEST_RETRY),
    started_at: new Date(),
  });
  return id;
}

let seq = 0;
/** Inserts `n` pending contacts with unique numbers; returns their ids in order. */
export async function addContacts(db: Knex, campaignId: string, n: number, o: { timezones?: string[] } = {}): Promise<string[]> {
  const base = 2_000_000 + (Date.now() % 1_000_000) * 10 + seq++ * 1_000;
  const rows = Array.from({ length: n }, (_, i) => ({
    campaign_id: campaignId,
    phone: `+1415${String(base + i).padStart(7, '0').slice(-7)}`,
    timezones: o.timezones ?? ['UTC'],
    variables: JSON.stringify({ first_name: `C${i}` }),
  }));
  const ids = await db('campaign_contacts').insert(rows).returning('id');
  return ids.map((r: { id: string }) => String(r.id));
}

/**
 * Isolates a test from earlier ones in this worker's database: running campaigns are cancelled and contacts still
 * holding a slot (dialing / in-progress, which count against the global ceiling whatever their campaign's state)
 * are ended.
 */
export async function quiesceCampaigns(db: Knex): Promise<void> {
  await db('campaigns').where({ state: 'running' }).update({ state: 'cancelled' });
  await db('campaign_contacts').whereIn('state', ['dialing', 'in-progress']).update({ state: 'done', lease_owner: null, lease_expires_at: null });
  await db('call_attempts').whereNull('contact_id').whereNull('outcome').update({ outcome: 'canceled', status: 'canceled' });
}

/**
 * Serves `POST /twilio/outbound/status` alone (the real router over `db`, a silent logger, a 65-minute in-progress
 * lease, the test's clock) on an ephemeral loopback port: `origin` to deliver the double's signed callbacks to.
 */
export async function serveOutboundStatus(db: Knex, o: { token: string; publicBaseUrl: string; now: () => Date }): Promise<{ origin: string; close: () => Promise<void> }> {
  const app = express();
  app.use(createOutboundStatusRouter({ db, calls: new CallsRepo(db), authToken: o.token, publicBaseUrl: o.publicBaseUrl, logger: pino({ level: 'silent' }), inProgressLeaseMs: 3_900_000, now: o.now }));
  const s = await listen(app);
  return { origin: s.base, close: s.close };
}
