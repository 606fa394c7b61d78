import type { Knex } from 'knex';
import type { CallAnalysis, CallFacts } from '../domain/call-analysis';
import { dispositionSchema, type Disposition } from '../domain/disposition';
import { parseExtractionSchema, type ExtractedFields } from '../domain/extraction-schema';

/** A call's stored analysis as the API shows it (`analyzedAt` ISO 8601). */
export interface StoredAnalysis {
  summary: string;
  disposition: Disposition;
  fields: ExtractedFields;
  method: string;
  analyzedAt: string;
}

/** The stored analysis of a `calls` row (columns of migration 20261203000050), or null when not analysed. */
export function analysisOfRow(r: Record<string, any>): StoredAnalysis | null {
  if (!r.analyzed_at || !r.disposition) return null;
  const d = dispositionSchema.safeParse(r.disposition);
  if (!d.success) return null;
  return { summary: r.summary ?? '', disposition: d.data, fields: r.extracted_fields ?? {}, method: r.analysis_method ?? '', analyzedAt: new Date(r.analyzed_at).toISOString() };
}

/**
 * Post-call analysis rows (issue 13 §4): reads what a call's analysis needs and stores its result on `calls`
 * (summary, disposition, extracted_fields, analysis_method, analyzed_at).
 */
export class CallAnalysisRepo {
  constructor(private readonly db: Knex) {}

  /**
   * The facts of one call (status, direction, turns, events, transfer, the attempt's AMD answer, the agent's
   * extraction schema — an invalid stored schema counts as none), or null for an unknown callSid.
   */
  async facts(callSid: string): Promise<CallFacts | null> {
    const call = await this.db('calls as c')
      .leftJoin('agents as a', 'a.id', 'c.agent_id')
      .where('c.call_sid', callSid)
      .first('c.status', 'c.direction', 'c.started_at', 'c.transfer', 'a.extraction_schema');
    if (!call) return null;
    const [turns, events, attempt] = await Promise.all([
      this.db('call_turns').where({ call_sid: callSid }).orderBy('seq').select('role', 'text', 'interrupted'),
      this.db('call_events').where({ call_sid: callSid }).orderBy('id').select('type', 'payload'),
      this.db('call_attempts').where({ call_sid: callSid }).first('answered_by'),
    ]);
    return {
      callSid,
      status: call.status,
      direction: call.direction,
      startedAt: new Date(call.started_at),
      turns: turns.map((t) => ({ role: t.role, text: t.text ?? '', interrupted: !!t.interrupted })),
      events: events.map((e) => ({ type: e.type, payload: e.payload ?? {} })),
      transfer: call.transfer ?? null,
      answeredBy: attempt?.answered_by ?? null,
      schema: parseExtractionSchema(call.extraction_schema),
    };
  }

  /** Stores (or replaces: idempotent) the call's analysis; `analyzed_at` = now. @returns false for an unknown callSid. */
  async save(callSid: string, a: CallAnalysis): Promise<boolean> {
    const n = await this.db('calls')
      .where({ call_sid: callSid })
      .update({ summary: a.summary, disposition: a.disposition, extracted_fields: JSON.stringify(a.fields), analysis_method: a.method, analyzed_at: this.db.fn.now(), updated_at: this.db.fn.now() });
    return n > 0;
  }

  /** The stored analysis of a call, or null (not analysed yet, or unknown). */
  async get(callSid: string): Promise<StoredAnalysis | null> {
    const r = await this.db('calls').where({ call_sid: callSid }).first('summary', 'disposition', 'extracted_fields', 'analysis_method', 'analyzed_at');
    return r ? analysisOfRow(r) : null;
  }
}
