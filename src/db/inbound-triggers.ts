import type { Knex } from 'knex';

/** What an inbound trigger does with a verified request (issue 13 §6). */
export type TriggerAction = { type: 'enroll'; campaignId: string } | { type: 'call'; agentId: string; fromNumber?: string };

/**
 * Where the trigger finds its inputs in the request's JSON body: dotted paths (`properties.phone`, `items.0.phone`).
 * `variables` maps a template variable name to a path; missing values are skipped.
 */
export interface TriggerMapping {
  phone: string;
  name?: string;
  variables?: Record<string, string>;
}

/** A stored trigger; `secretSealed` is the SecretBox-sealed signing secret (never returned by the API). */
export interface InboundTrigger {
  id: string;
  name: string;
  kind: 'hubspot' | 'standard';
  secretSealed: string;
  action: TriggerAction;
  mapping: TriggerMapping;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The stored answer of a processed delivery (replayed to a duplicate). */
export interface DeliveryOutcome {
  status: number;
  body: unknown;
}

const toTrigger = (r: Record<string, any>): InboundTrigger => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  secretSealed: r.secret_sealed,
  action: r.action,
  mapping: r.mapping,
  enabled: r.enabled,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** `inbound_triggers` and their 24 h delivery dedupe log (`inbound_trigger_deliveries`). */
export class InboundTriggersRepo {
  constructor(private readonly db: Knex) {}

  async get(id: string): Promise<InboundTrigger | null> {
    const r = await this.db('inbound_triggers').where({ id }).first();
    return r ? toTrigger(r) : null;
  }

  async list(): Promise<InboundTrigger[]> {
    return (await this.db('inbound_triggers').orderBy('created_at')).map(toTrigger);
  }

  async create(t: Omit<InboundTrigger, 'createdAt' | 'updatedAt'>): Promise<InboundTrigger> {
    const [r] = await this.db('inbound_triggers')
      .insert({ id: t.id, name: t.name, kind: t.kind, secret_sealed: t.secretSealed, action: JSON.stringify(t.action), mapping: JSON.stringify(t.mapping), enabled: t.enabled })
      .returning('*');
    return toTrigger(r);
  }

  async update(id: string, c: Partial<Pick<InboundTrigger, 'name' | 'action' | 'mapping' | 'enabled' | 'secretSealed'>>): Promise<InboundTrigger | null> {
    const row: Record<string, unknown> = { updated_at: this.db.fn.now() };
    if (c.name !== undefined) row.name = c.name;
    if (c.action !== undefined) row.action = JSON.stringify(c.action);
    if (c.mapping !== undefined) row.mapping = JSON.stringify(c.mapping);
    if (c.enabled !== undefined) row.enabled = c.enabled;
    if (c.secretSealed !== undefined) row.secret_sealed = c.secretSealed;
    const [r] = await this.db('inbound_triggers').where({ id }).update(row).returning('*');
    return r ? toTrigger(r) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db('inbound_triggers').where({ id }).delete()) > 0;
  }

  /**
   * Claims delivery `key` of trigger `triggerId` at `now`: true when it is new (or its earlier claim is older than
   * 24 h), false when it was seen in the last 24 h (then {@link outcome} tells what was answered).
   */
  async claimDelivery(triggerId: string, key: string, now: Date): Promise<boolean> {
    const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000);
    await this.db('inbound_trigger_deliveries').where({ trigger_id: triggerId, delivery_key: key }).where('received_at', '<', dayAgo).delete();
    const rows = await this.db('inbound_trigger_deliveries').insert({ trigger_id: triggerId, delivery_key: key, received_at: now }).onConflict(['trigger_id', 'delivery_key']).ignore().returning('delivery_key');
    return rows.length > 0;
  }

  async outcome(triggerId: string, key: string): Promise<DeliveryOutcome | null> {
    const r = await this.db('inbound_trigger_deliveries').where({ trigger_id: triggerId, delivery_key: key }).first('outcome');
    return r?.outcome ?? null;
  }

  async recordOutcome(triggerId: string, key: string, outcome: DeliveryOutcome): Promise<void> {
    await this.db('inbound_trigger_deliveries').where({ trigger_id: triggerId, delivery_key: key }).update({ outcome: JSON.stringify(outcome) });
  }

  /** Forgets a claim (the action failed for a retryable reason: the sender's retry must run it). */
  async releaseDelivery(triggerId: string, key: string): Promise<void> {
    await this.db('inbound_trigger_deliveries').where({ trigger_id: triggerId, delivery_key: key }).delete();
  }
}
