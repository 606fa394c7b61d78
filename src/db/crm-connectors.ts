import type { Knex } from 'knex';
import type { CallFacts } from '../domain/call-analysis';
import { CallAnalysisRepo } from './call-analysis';

export type CrmKind = 'hubspot' | 'salesforce';

/** A connector as the API shows it: never its credentials, only whether they are set. */
export interface CrmConnectorView {
  id: string;
  kind: CrmKind;
  name: string;
  enabled: boolean;
  /** Non-secret settings (HubSpot `basePath`, `doNotCallProperty`; Salesforce `instanceUrl`). */
  settings: Record<string, unknown>;
  credentialsSet: boolean;
  lastTestAt: string | null;
  lastTestResult: { ok: boolean; message: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** A connector with its sealed credentials (for the connector-sync job and "test connection" only). */
export interface CrmConnectorRow extends CrmConnectorView {
  credentialsEnc: string;
}

/** A call's delivery to one connector. */
export interface CrmConnectorDelivery {
  callSid: string;
  connectorId: string;
  status: 'pending' | 'delivered' | 'failed';
  activityId: string | null;
  contactId: string | null;
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
}

/**
 * What src/crm/activity.ts buildCallActivity reads about a finished call (CrmConnectorsRepo.activitySource). The
 * disposition facts (status, events, transfer, answeredBy, turns) are the very ones the post-call analysis reads
 * (CallAnalysisRepo.facts), so a call not analysed gets the disposition the analysis would give it.
 */
export interface CallActivitySource extends Pick<CallFacts, 'status' | 'events' | 'transfer' | 'answeredBy' | 'turns'> {
  callSid: string;
  direction: string;
  from: string;
  to: string;
  startedAt: Date;
  endedAt: Date | null;
  /** Post-call analysis columns (migration 20261203000050); null when not analysed (yet). */
  summary: string | null;
  disposition: string | null;
  extractedFields: Record<string, unknown> | null;
  hasRecording: boolean;
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const toRow = (r: Record<string, any>): CrmConnectorRow => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  enabled: r.enabled,
  settings: r.settings ?? {},
  credentialsSet: !!r.credentials_enc,
  lastTestAt: iso(r.last_test_at),
  lastTestResult: r.last_test_result ?? null,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
  credentialsEnc: r.credentials_enc,
});
/** The view of a row (drops the sealed credentials). */
export const viewOf = ({ credentialsEnc: _c, ...v }: CrmConnectorRow): CrmConnectorView => v;
const toDelivery = (r: Record<string, any>): CrmConnectorDelivery => ({
  callSid: r.call_sid,
  connectorId: r.connector_id,
  status: r.status,
  activityId: r.activity_id ?? null,
  contactId: r.contact_id ?? null,
  attempts: r.attempts,
  lastError: r.last_error ?? null,
  deliveredAt: iso(r.delivered_at),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR_CHARS = 500;

/**
 * Repository of native CRM connectors (`crm_connectors`) and their per-call deliveries (`crm_connector_deliveries`).
 * Credentials arrive and leave sealed (the caller seals/opens them with src/webhooks/secret-box.ts).
 */
export class CrmConnectorsRepo {
  constructor(private readonly db: Knex) {}

  /** Runs `fn` in one transaction with a repository bound to it. */
  transaction<T>(fn: (repo: CrmConnectorsRepo, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => fn(new CrmConnectorsRepo(trx), trx));
  }

  /** Every connector, oldest first (`enabled` filters). */
  async list(o: { enabled?: boolean } = {}): Promise<CrmConnectorRow[]> {
    const q = this.db('crm_connectors').orderBy('created_at').orderBy('id');
    if (o.enabled !== undefined) q.where({ enabled: o.enabled });
    return (await q).map(toRow);
  }

  /** The connector, or null (also for a non-uuid id); `lock` takes the row FOR UPDATE. */
  async get(id: string, o: { lock?: boolean } = {}): Promise<CrmConnectorRow | null> {
    if (!UUID.test(id)) return null;
    const q = this.db('crm_connectors').where({ id });
    if (o.lock) q.forUpdate();
    const r = await q.first();
    return r ? toRow(r) : null;
  }

  async create(p: { kind: CrmKind; name: string; enabled?: boolean; settings: Record<string, unknown>; credentialsEnc: string }): Promise<CrmConnectorRow> {
    const [r] = await this.db('crm_connectors')
      .insert({ kind: p.kind, name: p.name, enabled: p.enabled ?? true, settings: JSON.stringify(p.settings), credentials_enc: p.credentialsEnc })
      .returning('*');
    return toRow(r);
  }

  /** Applies changes (absent fields kept). Null when unknown. */
  async update(id: string, p: { name?: string; enabled?: boolean; settings?: Record<string, unknown>; credentialsEnc?: string }): Promise<CrmConnectorRow | null> {
    if (!UUID.test(id)) return null;
    const [r] = await this.db('crm_connectors')
      .where({ id })
      .update({
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
        ...(p.settings !== undefined ? { settings: JSON.stringify(p.settings) } : {}),
        ...(p.credentialsEnc !== undefined ? { credentials_enc: p.credentialsEnc } : {}),
        updated_at: this.db.fn.now(),
      })
      .returning('*');
    return r ? toRow(r) : null;
  }

  /** Deletes a connector (its deliveries go with it); returns it as it was, or null. */
  async delete(id: string): Promise<CrmConnectorRow | null> {
    if (!UUID.test(id)) return null;
    const [r] = await this.db('crm_connectors').where({ id }).delete().returning('*');
    return r ? toRow(r) : null;
  }

  /** Stores a "test connection" result. */
  async recordTest(id: string, result: { ok: boolean; message: string }, at: Date): Promise<CrmConnectorRow | null> {
    const [r] = await this.db('crm_connectors').where({ id }).update({ last_test_at: at, last_test_result: JSON.stringify(result) }).returning('*');
    return r ? toRow(r) : null;
  }

  async getDelivery(callSid: string, connectorId: string): Promise<CrmConnectorDelivery | null> {
    const r = await this.db('crm_connector_deliveries').where({ call_sid: callSid, connector_id: connectorId }).first();
    return r ? toDelivery(r) : null;
  }

  /** A call's deliveries to every connector, by connector creation order. */
  async deliveriesOf(callSid: string): Promise<Array<CrmConnectorDelivery & { connectorName: string; kind: CrmKind }>> {
    const rows = await this.db('crm_connector_deliveries as d')
      .join('crm_connectors as c', 'c.id', 'd.connector_id')
      .where('d.call_sid', callSid)
      .orderBy('c.created_at')
      .select('d.*', 'c.name as connector_name', 'c.kind as kind');
    return rows.map((r: Record<string, any>) => ({ ...toDelivery(r), connectorName: r.connector_name, kind: r.kind }));
  }

  /**
   * Starts one attempt: creates the row (pending, attempts 1) or increments `attempts` — unless it is already
   * delivered, which is left untouched. @returns the row after the update.
   */
  async beginAttempt(callSid: string, connectorId: string): Promise<CrmConnectorDelivery> {
    const [r] = await this.db('crm_connector_deliveries')
      .insert({ call_sid: callSid, connector_id: connectorId, status: 'pending', attempts: 1 })
      .onConflict(['call_sid', 'connector_id'])
      .merge({
        attempts: this.db.raw(`CASE WHEN crm_connector_deliveries.status = 'delivered' THEN crm_connector_deliveries.attempts ELSE crm_connector_deliveries.attempts + 1 END`),
        status: this.db.raw(`CASE WHEN crm_connector_deliveries.status = 'delivered' THEN crm_connector_deliveries.status ELSE 'pending' END`),
        updated_at: this.db.fn.now(),
      })
      .returning('*');
    return toDelivery(r);
  }

  /** Records the activity the CRM created (before any follow-up such as do-not-call), so a retry never logs it again. */
  async recordLogged(callSid: string, connectorId: string, r: { activityId: string; contactId: string | null }): Promise<void> {
    await this.db('crm_connector_deliveries').where({ call_sid: callSid, connector_id: connectorId }).update({ activity_id: r.activityId, contact_id: r.contactId, updated_at: this.db.fn.now() });
  }

  /** Marks the delivery done. */
  async recordDelivered(callSid: string, connectorId: string): Promise<void> {
    await this.db('crm_connector_deliveries')
      .where({ call_sid: callSid, connector_id: connectorId })
      .update({ status: 'delivered', last_error: null, delivered_at: this.db.fn.now(), updated_at: this.db.fn.now() });
  }

  /**
   * What a CRM activity is built from (src/crm/activity.ts): the call row with its analysis columns, whether a
   * recording exists, and the call's disposition facts as {@link CallAnalysisRepo.facts} reads them (turns, events,
   * the stored transfer, the attempt's AMD answer). Null for an unknown call.
   */
  async activitySource(callSid: string): Promise<CallActivitySource | null> {
    const c = await this.db('calls').where({ call_sid: callSid }).first();
    if (!c) return null;
    const [facts, rec] = await Promise.all([
      new CallAnalysisRepo(this.db).facts(callSid),
      this.db('recordings').where({ call_sid: callSid }).first('call_sid'),
    ]);
    if (!facts) return null;
    return {
      callSid,
      direction: c.direction,
      from: c.from_number,
      to: c.to_number,
      status: c.status,
      startedAt: c.started_at,
      endedAt: c.ended_at,
      summary: c.summary ?? null,
      disposition: c.disposition ?? null,
      extractedFields: c.extracted_fields ?? null,
      hasRecording: !!rec,
      events: facts.events,
      turns: facts.turns,
      transfer: facts.transfer,
      answeredBy: facts.answeredBy,
    };
  }

  /** Records a failed attempt: `pending` (will retry) or `failed` (final); `error` is secret-free text (truncated). */
  async recordFailure(callSid: string, connectorId: string, status: 'pending' | 'failed', error: string): Promise<void> {
    await this.db('crm_connector_deliveries')
      .where({ call_sid: callSid, connector_id: connectorId })
      .whereNot({ status: 'delivered' })
      .update({ status, last_error: error.slice(0, MAX_ERROR_CHARS), updated_at: this.db.fn.now() });
  }
}
