import { z } from 'zod';
import 'zod-openapi';
import { agentSchema } from '../../db/agents';
import { DISPOSITIONS } from '../../domain/disposition';
import type { CallFilters } from '../../db/calls';
import { decodeCallCursor } from '../call-shapes';

/**
 * Query parameters of `GET /api/calls` and `GET /api/calls.csv` (zod, strict: an unknown parameter is a 400, so a
 * misspelt filter never silently returns everything), and their mapping to the repository's {@link CallFilters}.
 */

/** Twilio `CallStatus` values (Twilio Voice webhooks / status callbacks). */
export const CALL_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;

/**
 * The `direction` filter → stored Twilio `Direction` values. `outbound` is any outbound call (`outbound-api`: placed
 * through the REST API, e.g. by the dialer; `outbound-dial`: a `<Dial>` leg). `web`: browser test calls (`/api/web-call`).
 */
export const DIRECTION_FILTERS: Record<string, readonly string[]> = {
  inbound: ['inbound'],
  outbound: ['outbound-api', 'outbound-dial'],
  'outbound-api': ['outbound-api'],
  'outbound-dial': ['outbound-dial'],
  web: ['web'],
};

/** An instant in a query: ISO 8601 date-time with an offset, or a date (00:00 UTC). */
export const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .meta({ description: 'ISO 8601 date-time with `Z` or an offset, or a date (`2026-12-01` = 00:00 UTC).' });

/** Filters shared by the list and the export. */
const filterShape = {
  agentId: agentSchema.shape.id.optional().meta({ description: 'Only calls answered by this agent.' }),
  campaignId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'campaignId must be 1-64 letters, digits, _ . or -').optional().meta({ description: 'Only calls placed by this outbound campaign.' }),
  direction: z.enum(Object.keys(DIRECTION_FILTERS) as [string, ...string[]]).optional().meta({ description: '`inbound`, `outbound` (both outbound kinds), `outbound-api`, `outbound-dial` or `web` (browser test calls).' }),
  status: z.enum(CALL_STATUSES).optional().meta({ description: 'Twilio CallStatus.' }),
  disposition: z.enum(DISPOSITIONS).optional().meta({ description: 'Post-call disposition (`resolved`, `transferred`, `voicemail` …); calls not analysed yet never match.' }),
  language: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'language must be an ISO 639-1 code like en (the calls store those)')
    .toLowerCase()
    .optional()
    .meta({ description: "The call's dominant language (`en`, `es` …)." }),
  from: instant.optional().meta({ description: 'Calls that started at or after this instant.' }),
  to: instant.optional().meta({ description: 'Calls that started before this instant (exclusive).' }),
  before: z.iso.datetime({ offset: true }).optional().meta({ description: 'Calls that started before this instant (exclusive); the same as `to`.' }),
  csatMin: z.coerce.number().int().min(1).max(5).optional().meta({ description: 'Lowest post-call CSAT score (1..5); calls not yet scored are left out.' }),
  csatMax: z.coerce.number().int().min(1).max(5).optional().meta({ description: 'Highest post-call CSAT score (1..5).' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/[\p{L}\p{N}]/u, 'q must contain a letter or a digit')
    .optional()
    .meta({
      description:
        'Full-text search over the whole transcript (caller and agent), web-search syntax: words (all must occur), `"a phrase"`, `or`, `-word`. Words match case-insensitively as written (no stemming: `refund` does not find `refunds`).',
    }),
};

/** Epoch ms of an {@link instant} value (a date means 00:00 UTC). */
export const instantMs = (s: string): number => Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);

/** Cross-field rules: a CSAT range and a time range must not be empty. */
function checkRanges(v: { csatMin?: number; csatMax?: number; from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (v.csatMin !== undefined && v.csatMax !== undefined && v.csatMin > v.csatMax) {
    ctx.addIssue({ code: 'custom', path: ['csatMax'], message: `csatMax (${v.csatMax}) must not be below csatMin (${v.csatMin})` });
  }
  if (v.from !== undefined && v.to !== undefined && instantMs(v.from) >= instantMs(v.to)) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be later than from' });
  }
}

/** `GET /api/calls` query: the filters, `limit` 1..100 (default 20) and `cursor` (a previous page's `nextCursor`). */
export const listCallsQuery = z
  .strictObject({
    ...filterShape,
    limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Calls per page (1..100).' }),
    cursor: z
      .string()
      .max(200)
      .refine((t) => decodeCallCursor(t) !== null, 'cursor is not a nextCursor value')
      .optional()
      .meta({ description: "The previous page's `nextCursor`; use the same filters." }),
  })
  .superRefine(checkRanges);
export type ListCallsQuery = z.infer<typeof listCallsQuery>;

/** `GET /api/calls.csv` query: the filters and `transcript=true` for a transcript column. */
export const exportCallsQuery = z
  .strictObject({
    ...filterShape,
    transcript: z.enum(['true', 'false']).default('false').meta({ description: 'Add a `transcript` column (`role: text` per line).' }),
  })
  .superRefine(checkRanges);
export type ExportCallsQuery = z.infer<typeof exportCallsQuery>;

/** Validated filters → {@link CallFilters} (date-only values become 00:00 UTC; `direction` becomes stored values). */
export function callFilters(q: z.infer<z.ZodObject<typeof filterShape>>): CallFilters {
  const at = (s: string | undefined) => (s === undefined ? undefined : /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  return {
    agentId: q.agentId,
    campaignId: q.campaignId,
    directions: q.direction === undefined ? undefined : DIRECTION_FILTERS[q.direction],
    status: q.status,
    disposition: q.disposition,
    language: q.language,
    from: at(q.from),
    to: at(q.to),
    before: q.before,
    csatMin: q.csatMin,
    csatMax: q.csatMax,
    text: q.q,
  };
}
