import type { Knex } from 'knex';
import type { TransferRecord } from '../domain/calls';
import type { Disposition } from '../domain/disposition';
import type { CallCursor, CallRow } from './calls';

/**
 * Filters of the call list and export (`CallsRepo.search` / `CallsRepo.stream`), combined with AND; an absent field
 * does not filter. Values are already validated by the caller (the HTTP layer); they are bound as SQL parameters.
 */
export interface CallFilters {
  agentId?: string;
  /** Calls placed by this outbound campaign (`calls.campaign_id`). */
  campaignId?: string;
  /** `calls.direction` is one of these (Twilio `Direction`: `inbound`, `outbound-api`, `outbound-dial`). */
  directions?: readonly string[];
  /** Twilio `CallStatus` as stored (`completed`, `in-progress`, …). */
  status?: string;
  /** The call's dominant language code as stored (`en`, `es`, …). */
  language?: string;
  /** Post-call disposition (`calls.disposition`, src/domain/disposition.ts); calls not analysed yet never match. */
  disposition?: string;
  /** ISO 8601: calls that started at or after it. */
  from?: string;
  /** ISO 8601: calls that started strictly before it. */
  to?: string;
  /** ISO 8601: calls that started strictly before it (the list's historical `before`; same meaning as `to`). */
  before?: string;
  /** CSAT score range, inclusive (1..5, `call_csat.score`); a call without a score never matches a range. */
  csatMin?: number;
  csatMax?: number;
  /**
   * Full-text query in web-search syntax (`websearch_to_tsquery('simple', …)`: words are ANDed, `"a phrase"`, `or`,
   * `-word`), matched against the whole transcript (every turn, caller and agent) in `call_search.document`.
   */
  text?: string;
}

/** The text-search configuration of `call_search.document` (migration 20261202000700_call_search): no stemming. */
export const CALL_SEARCH_CONFIG = 'simple';

/** Applies {@link CallFilters} to a query over `calls` (which may LEFT JOIN `call_csat AS csat`). */
export function applyCallFilters(db: Knex, q: Knex.QueryBuilder, f: CallFilters): Knex.QueryBuilder {
  if (f.agentId !== undefined) q.where('calls.agent_id', f.agentId);
  if (f.campaignId !== undefined) q.where('calls.campaign_id', f.campaignId);
  if (f.directions !== undefined) q.whereIn('calls.direction', [...f.directions]);
  if (f.status !== undefined) q.where('calls.status', f.status);
  if (f.language !== undefined) q.where('calls.language', f.language);
  if (f.disposition !== undefined) q.where('calls.disposition', f.disposition);
  if (f.from !== undefined) q.where('calls.started_at', '>=', f.from);
  if (f.to !== undefined) q.where('calls.started_at', '<', f.to);
  if (f.before !== undefined) q.where('calls.started_at', '<', f.before);
  if (f.csatMin !== undefined) q.where('csat.score', '>=', f.csatMin);
  if (f.csatMax !== undefined) q.where('csat.score', '<=', f.csatMax);
  if (f.text !== undefined) {
    q.whereExists(
      db('call_search')
        .select(db.raw('1'))
        .whereRaw('call_search.call_sid = calls.call_sid')
        .whereRaw(`call_search.document @@ websearch_to_tsquery('${CALL_SEARCH_CONFIG}', ?)`, [f.text]),
    );
  }
  return q;
}

/** A call of the list and export: its row plus CSAT score, end reason, transfer, number of turns and keyset position. */
export interface CallListRow extends CallRow {
  endReason: string | null;
  transfer: TransferRecord | null;
  /** `call_csat.score` (1..5), null before the post-call job scored the call. */
  csatScore: number | null;
  /** `calls.disposition` (src/domain/disposition.ts), null until post-call analysis ran. */
  disposition: Disposition | null;
  /** `calls.summary` (post-call analysis), null until it ran. */
  summary: string | null;
  /** `calls.extracted_fields` (the agent's schema, validated), null until post-call analysis ran. */
  extractedFields: Record<string, unknown> | null;
  turnCount: number;
  cursor: CallCursor;
}

/** One transcript line of the export: who spoke and what was stored (`seq` order). */
export interface TranscriptLine {
  role: 'caller' | 'agent';
  text: string;
}
