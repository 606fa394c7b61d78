import type { paths } from '../../api/schema';

/** The query of `GET /api/calls` (generated from the OpenAPI document). */
export type CallsQuery = NonNullable<paths['/api/calls']['get']['parameters']['query']>;

/** The filters the calls page keeps in its URL (`?direction=inbound&q=refund`), all strings as typed. */
export const FILTER_KEYS = ['from', 'to', 'agentId', 'direction', 'status', 'disposition', 'language', 'csatMin', 'csatMax', 'campaignId', 'q'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;

/** Twilio `CallStatus` values the API filters by. */
export const STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** Post-call dispositions the API filters by (src/domain/disposition.ts). */
export const DISPOSITIONS = ['resolved', 'unresolved', 'transferred', 'voicemail', 'no_answer', 'busy', 'failed', 'opted_out', 'callback_booked', 'wrong_number', 'abandoned'];

/** The direction filter's values (`outbound` = both outbound kinds). */
export const DIRECTIONS = ['inbound', 'outbound', 'outbound-api', 'outbound-dial'];

/** Filters from the page URL (unknown keys ignored, empty values dropped). */
export function filtersFromParams(p: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

/** URL search params of the filters (empty values dropped). */
export function paramsFromFilters(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) p.set(k, f[k]!);
  return p;
}

/**
 * The API query of the filters: numbers for the CSAT bounds; dates pass as typed (the API takes `2026-12-01` as
 * 00:00 UTC, and validates everything — its 400 `issues` are shown next to the fields).
 */
export function apiQuery(f: Filters): CallsQuery {
  const q: Record<string, unknown> = { ...f };
  if (f.csatMin) q.csatMin = Number(f.csatMin);
  if (f.csatMax) q.csatMax = Number(f.csatMax);
  return q as CallsQuery;
}
