import { z } from 'zod';
import 'zod-openapi';
import { DISPOSITIONS } from '../domain/disposition';
import { USAGE_KINDS, type UsageKind } from '../domain/usage';
import { callFields, type CallCursor, type CallDetail, type CallFields, type CallListRow, type CallRow, type TranscriptLine } from '../db/calls';

/**
 * Shapes of the REST API's call resources: the opaque list cursors, the list summary and detail (zod schemas, also
 * the OpenAPI components `CallSummary`, `CallPage`, `CallDetail`) and the rows of the CSV export. The repository
 * works with rows and keyset positions; what the API shows is decided here.
 */

/** Encodes a list position as an opaque URL-safe token (base64url of `<started_at with µs>|<callSid>`). */
export function encodeCallCursor(c: CallCursor): string {
  return Buffer.from(`${c.startedAt}|${c.callSid}`, 'utf8').toString('base64url');
}

/** Decodes {@link encodeCallCursor}'s token. @returns null when the token is malformed. */
export function decodeCallCursor(token: string): CallCursor | null {
  const [startedAt, callSid, extra] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !callSid || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(startedAt ?? '')) return null;
  return { startedAt, callSid };
}

/** The list entry of `createApiRouter`'s `GET /api/calls` (before the route table): the call's own fields and agent. */
export interface BasicCallSummary extends CallFields {
  agentId: string;
}

/** Maps a call row to {@link BasicCallSummary}. */
export function callSummary(c: CallRow): BasicCallSummary {
  return { ...callFields(c), agentId: c.agentId };
}

const isoTime = z.iso.datetime({ offset: true });
const EXAMPLE_SID = 'CA0123456789abcdef0123456789abcdef';

/** One call of `GET /api/calls`: the call without its turns, with its agent, outcome and CSAT; times ISO 8601 (UTC). */
export const callSummarySchema = z
  .object({
    callSid: z.string(),
    agentId: z.string(),
    direction: z.string().meta({ description: 'Twilio `Direction`: `inbound`, `outbound-api` or `outbound-dial`; `web` for a browser test call.' }),
    from: z.string().meta({ description: 'Caller number (E.164 for PSTN calls).' }),
    to: z.string().meta({ description: 'Called number.' }),
    status: z.string().meta({ description: 'Twilio `CallStatus` (`completed`, `in-progress`, `busy` …).' }),
    language: z.string().nullable().meta({ description: "The call's dominant language, null until known." }),
    intent: z.string().nullable(),
    startedAt: isoTime,
    endedAt: isoTime.nullable(),
    durationMs: z.number().int().nonnegative().nullable().meta({ description: 'endedAt − startedAt in ms; null while the call is live.' }),
    endReason: z.string().nullable().meta({ description: 'Why the agent ended the call (`silence`, `max_duration`, `transfer` …), null when the caller hung up.' }),
    csat: z.number().int().min(1).max(5).nullable().meta({ description: 'Post-call CSAT score 1..5, null until scored.' }),
    turnCount: z.number().int().nonnegative().meta({ description: 'Stored transcript turns (caller and agent).' }),
    transfer: z
      .object({ target: z.string(), reason: z.string(), at: isoTime })
      .nullable()
      .meta({ description: 'The warm transfer to a person, if any.' }),
    disposition: z.enum(DISPOSITIONS).nullable().meta({ description: 'Post-call disposition, null until the call is analysed.' }),
  })
  .meta({
    id: 'CallSummary',
    example: {
      callSid: EXAMPLE_SID,
      agentId: 'support',
      direction: 'inbound',
      from: '+14155550100',
      to: '+18005550199',
      status: 'completed',
      language: 'en',
      intent: 'hours',
      startedAt: '2026-12-01T15:04:05.123Z',
      endedAt: '2026-12-01T15:06:35.623Z',
      durationMs: 150500,
      endReason: null,
      csat: 4,
      turnCount: 6,
      transfer: null,
      disposition: 'resolved',
    },
  });
export type CallSummary = z.infer<typeof callSummarySchema>;

/** `GET /api/calls`: one page, newest first; `nextCursor` (pass it as `cursor`) is null on the last page. */
export const callPageSchema = z
  .object({
    calls: z.array(callSummarySchema),
    nextCursor: z.string().nullable().meta({ description: 'Opaque position after the last call of this page; null when no more calls match.' }),
  })
  .meta({ id: 'CallPage' });

/** What a call consumed: one line per provider that served and kind, with its estimated cost (USD, price table of the time). */
export const usageLineSchema = z
  .object({
    provider: z.string().meta({ description: 'The provider that served (after fallback), e.g. `openai.chat`, `twilio`.' }),
    kind: z.enum(USAGE_KINDS as [UsageKind, ...UsageKind[]]),
    quantity: z.number().nonnegative(),
    unit: z.string().meta({ description: '`seconds` (STT audio), `tokens` (LLM), `characters` (TTS), `minutes` (telephony, per started minute).' }),
    costUsd: z.number().nonnegative(),
  })
  .meta({ id: 'UsageLine' });

/** A call's usage lines and total estimated cost. */
export const callUsageSchema = z.object({ lines: z.array(usageLineSchema), costUsd: z.number().nonnegative() }).meta({ id: 'CallUsage' });

/** Stage timings of one reply (ms; `TurnTimings` in src/domain/calls.ts); also the live feed's turn timings. */
export const turnTimingsSchema = z
  .object({
    endpointingMs: z.number().optional().meta({ description: 'End of caller speech → end-of-turn decision.' }),
    sttMs: z.number().optional().meta({ description: 'End-of-turn → final transcript.' }),
    llmFirstTokenMs: z.number().optional().meta({ description: 'Prompt sent → first LLM token.' }),
    ttsFirstByteMs: z.number().optional().meta({ description: 'First sentence sent to TTS → first audio byte.' }),
    replyLatencyMs: z.number().optional().meta({ description: 'End of caller speech → first agent audio sent.' }),
    turnOverheadMs: z.number().optional().meta({ description: 'End-of-turn decision → first agent audio frame sent.' }),
    fillerPlayed: z.boolean().optional(),
    vocabularyCorrections: z.number().optional(),
  })
  .meta({ id: 'TurnTimings' });

/** `GET /api/calls/:callSid` (exactly `CallsRepo.detail()`; the `call.completed` webhook's `data` is a subset of it, see src/crm/webhook.ts). */
export const callDetailSchema = z
  .object({
    callSid: z.string(),
    direction: z.string(),
    from: z.string(),
    to: z.string(),
    status: z.string(),
    language: z.string().nullable(),
    intent: z.string().nullable(),
    startedAt: isoTime,
    endedAt: isoTime.nullable(),
    turns: z.array(
      z.object({
        role: z.enum(['caller', 'agent']),
        text: z.string(),
        language: z.string().nullable(),
        startMs: z.number().meta({ description: 'ms since the media stream started' }),
        endMs: z.number(),
        interrupted: z.boolean().meta({ description: 'An agent turn the caller cut (barge-in, DTMF, a newer utterance): `text` is what they heard.' }),
        unheardText: z
          .string()
          .nullable()
          .meta({ description: "A cut agent turn: the reply's text after what the caller heard, as the agent had it at the cut (queued sentences, the LLM's sentence in progress). Null when none." }),
        timings: turnTimingsSchema.nullable().meta({ description: "The reply's stage timings (ms), null when not measured (greetings, caller turns)." }),
      }),
    ),
    csat: z
      .object({
        score: z.number().int().min(1).max(5),
        method: z.string(),
        components: z.record(z.string(), z.number()).nullable().meta({ description: "The formula's terms (`heuristic-v1`/`-v2`: base, sentiment, resolution, repeatedFallbacks, handoff, closingCourtesy, callLength), null when the method has none." }),
        statedScore: z.number().int().min(1).max(5).nullable().optional().meta({ description: "The caller's own score (1..5) from the agent's end-of-call survey, null when they gave none." }),
      })
      .nullable(),
    crmSync: z.object({ status: z.string(), attempts: z.number().int().nonnegative() }),
    usage: callUsageSchema,
    recordingUrl: z.string().nullable().meta({ description: 'Path of the call\'s recording (GET, HTTP Range supported), or null when it has none (yet).' }),
    events: z
      .array(z.object({ type: z.string(), at: isoTime, payload: z.record(z.string(), z.unknown()) }))
      .meta({ description: 'What happened on the call, oldest first: `twilio.status`, `barge_in`, `backchannel`, `dtmf`, `transfer`, `hangup`, `provider.error`, `stream.ended`, `voicemail`, `opt_out`, `callback` …' }),
    analysis: z
      .object({
        summary: z.string().meta({ description: 'A few sentences: what the caller wanted, what the agent did, how it ended.' }),
        disposition: z.enum(DISPOSITIONS).meta({ description: 'How the call ended. Hard facts (no_answer, busy, failed, voicemail, transferred, opted_out, callback_booked, abandoned) come from the call\'s records; resolved / unresolved / wrong_number from the conversation.' }),
        fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).meta({ description: "The agent's extracted fields (its `extractionSchema`); fields not found or invalid are absent." }),
        method: z.string().meta({ description: 'How it was produced: `llm:<model>` or `local:v1` (offline, or the LLM failed).' }),
        analyzedAt: isoTime,
      })
      .nullable()
      .meta({ description: 'Post-call analysis, null until the post-call `analysis` step has run.' }),
  })
  .meta({
    id: 'CallDetail',
    example: {
      callSid: EXAMPLE_SID,
      direction: 'inbound',
      from: '+14155550100',
      to: '+18005550199',
      status: 'completed',
      language: 'en',
      intent: 'hours',
      startedAt: '2026-12-01T15:04:05.123Z',
      endedAt: '2026-12-01T15:04:20.000Z',
      turns: [
        { role: 'agent', text: 'Hello, how can I help?', language: 'en', startMs: 0, endMs: 1800, interrupted: false, unheardText: null, timings: null },
        { role: 'caller', text: 'When are you open?', language: 'en', startMs: 2500, endMs: 3900, interrupted: false, unheardText: null, timings: null },
        {
          role: 'agent',
          text: 'We are open Monday to Friday, nine to five.',
          language: 'en',
          startMs: 4300,
          endMs: 6900,
          interrupted: false,
          unheardText: null,
          timings: { endpointingMs: 180, sttMs: 120, llmFirstTokenMs: 310, ttsFirstByteMs: 140, replyLatencyMs: 400 },
        },
      ],
      csat: { score: 5, method: 'heuristic-v1', components: { base: 3, sentiment: 0.8, resolution: 1, repeatedFallbacks: 0, handoff: 0, closingCourtesy: 0.3, callLength: 0 } },
      crmSync: { status: 'delivered', attempts: 1 },
      usage: {
        lines: [
          { provider: 'elevenlabs.tts', kind: 'tts_characters', quantity: 86, unit: 'characters', costUsd: 0.00344 },
          { provider: 'openai.chat', kind: 'llm_completion', quantity: 24, unit: 'tokens', costUsd: 0.000014 },
          { provider: 'openai.chat', kind: 'llm_prompt', quantity: 412, unit: 'tokens', costUsd: 0.000062 },
          { provider: 'openai.stt', kind: 'stt_audio', quantity: 1.4, unit: 'seconds', costUsd: 0.00014 },
          { provider: 'twilio', kind: 'telephony_inbound', quantity: 1, unit: 'minutes', costUsd: 0.0085 },
        ],
        costUsd: 0.012156,
      },
      recordingUrl: `/api/calls/${EXAMPLE_SID}/recording`,
      events: [{ type: 'twilio.status', at: '2026-12-01T15:04:20.100Z', payload: { CallStatus: 'completed' } }],
      analysis: {
        summary: 'Caller: "When are you open?" Agent: "We are open Monday to Friday, nine to five." The request was handled.',
        disposition: 'resolved',
        fields: {},
        method: 'local:v1',
        analyzedAt: '2026-12-01T15:04:22.000Z',
      },
    },
  });

/** The repository's detail as the response body (typed by {@link callDetailSchema}: a compile-time check that they agree). */
export const asCallDetailBody = (d: CallDetail): z.infer<typeof callDetailSchema> => d;

/** Maps a list row to its {@link CallSummary} (the transfer's summary text is left to the detail and the CSV). */
export function toCallSummary(r: CallListRow): CallSummary {
  return {
    ...callSummary(r),
    durationMs: r.endedAt ? Math.max(0, new Date(r.endedAt).getTime() - new Date(r.startedAt).getTime()) : null,
    endReason: r.endReason,
    csat: r.csatScore,
    turnCount: r.turnCount,
    transfer: r.transfer ? { target: r.transfer.target, reason: r.transfer.reason, at: new Date(r.transfer.at).toISOString() } : null,
    disposition: r.disposition,
  };
}

/**
 * Header of `GET /api/calls.csv` (`transcript` last, only with `?transcript=true`). `disposition`, `summary` and
 * `extractedFields` (a JSON object) are the post-call analysis, empty until it ran.
 */
export const CALL_CSV_COLUMNS = [
  'callSid',
  'startedAt',
  'endedAt',
  'durationMs',
  'direction',
  'from',
  'to',
  'agentId',
  'status',
  'language',
  'intent',
  'endReason',
  'csat',
  'turnCount',
  'transferTarget',
  'transferReason',
  'transferredAt',
  'disposition',
  'summary',
  'extractedFields',
] as const;

/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A CSV cell safe to open in a spreadsheet: a string starting with `=`, `+`, `-`, `@`, tab or carriage return gets
 * a leading `'`, so Excel, LibreOffice and Google Sheets show it as text instead of evaluating it
 * (https://owasp.org/www-community/attacks/CSV_Injection). Phone numbers such as `+14155550100` are prefixed too.
 * Quoting of commas, quotes and line breaks is left to the CSV writer (RFC 4180). Numbers and null pass unchanged.
 */
export function csvCell<T extends string | number | null>(v: T): T | string {
  return typeof v === 'string' && FORMULA_START.test(v) ? `'${v}` : v;
}

/** A transcript as one CSV cell: `role: text` per turn, one line each. */
export function transcriptCell(lines: readonly TranscriptLine[]): string {
  return lines.map((l) => `${l.role}: ${l.text}`).join('\n');
}

/**
 * One CSV record of a call, in {@link CALL_CSV_COLUMNS} order (plus the transcript when `transcript` is set):
 * every string through {@link csvCell}; absent values as empty cells.
 */
export function callCsvRecord(r: CallListRow & { transcript?: TranscriptLine[] }, o: { transcript: boolean }): Array<string | number | null> {
  const s = toCallSummary(r);
  const record: Array<string | number | null> = [
    s.callSid,
    s.startedAt,
    s.endedAt,
    s.durationMs,
    s.direction,
    s.from,
    s.to,
    s.agentId,
    s.status,
    s.language,
    s.intent,
    s.endReason,
    s.csat,
    s.turnCount,
    s.transfer?.target ?? null,
    s.transfer?.reason ?? null,
    s.transfer?.at ?? null,
    r.disposition,
    r.summary,
    r.extractedFields && typeof r.extractedFields === 'object' ? JSON.stringify(r.extractedFields) : null,
  ];
  if (o.transcript) record.push(transcriptCell(r.transcript ?? []));
  return record.map(csvCell);
}
