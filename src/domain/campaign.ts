import { z } from 'zod';

/**
 * Outbound campaigns: the shapes shared by the database, the dispatcher, the engine and the API (field names as
 * issue 11 fixes them: `POST /api/campaigns { name, agentId, callerIds, defaultRegion?, window, maxConcurrent, cps,
 * retry, voicemailMessage? }`).
 */

export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

/**
 * Per-contact states. `pending` (never dialed) → `dialing` (claimed, calls.create under way) → `in-progress`
 * (Twilio accepted the call) → `done` (a conversation or a voicemail left, no retry) | `retry-scheduled`
 * (`next_attempt_at` set) | `failed` (attempt budget used up, or a permanent error) | `opted-out` (said stop / DNC
 * during the call) | `suppressed` (on the DNC list, or a wrong number, before dialing).
 */
export const CONTACT_STATES = ['pending', 'dialing', 'in-progress', 'retry-scheduled', 'done', 'failed', 'opted-out', 'suppressed'] as const;
export type ContactState = (typeof CONTACT_STATES)[number];
/** States after which a contact is never dialed again. */
export const FINAL_CONTACT_STATES: ReadonlySet<ContactState> = new Set(['done', 'failed', 'opted-out', 'suppressed']);

/** Outcomes that have a retry ladder. */
export const RETRY_OUTCOMES = ['busy', 'noAnswer', 'failed', 'voicemail'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164 like +14155550100');

/** Calling window in each contact's own time zone: e.g. Mon–Fri 09:00–20:00; `end` after `start` (same day). */
export const callingWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
    start: hhmm,
    end: hhmm,
    /** Local dates (YYYY-MM-DD) with no calls. */
    blackoutDates: z.array(z.iso.date()).max(366).default([]),
  })
  .refine((w) => w.start < w.end, { message: 'end must be after start', path: ['end'] });
export type CallingWindow = z.infer<typeof callingWindowSchema>;

const ladder = z.array(z.number().int().min(60).max(30 * 86_400)).max(10);

/**
 * Retries: one attempt budget per contact (`maxAttempts`, the first dial included) shared by every outcome; each
 * outcome's ladder gives the delay (s) before the next attempt (the n-th retry after that outcome uses entry n-1,
 * the last entry repeats). An outcome with an empty ladder is not retried. Never after an opt-out or a wrong number.
 */
export const retryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(10).default(3),
  delaysSeconds: z
    .strictObject({
      busy: ladder.default([1_800, 7_200, 86_400]),
      noAnswer: ladder.default([3_600, 14_400, 86_400]),
      failed: ladder.default([3_600]),
      voicemail: ladder.default([86_400]),
    })
    .default({ busy: [1_800, 7_200, 86_400], noAnswer: [3_600, 14_400, 86_400], failed: [3_600], voicemail: [86_400] }),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const callerIdSchema = z.union([
  e164.transform((number) => ({ number, dailyCap: null as number | null })),
  z.strictObject({ number: e164, dailyCap: z.number().int().min(1).max(100_000).nullable().default(null) }),
]);
export type CallerId = { number: string; dailyCap: number | null };

/** Body of `POST /api/campaigns`. */
export const campaignCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  agentId: z.string().min(1).max(64),
  callerIds: z.array(callerIdSchema).min(1).max(100),
  defaultRegion: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. US').optional(),
  window: callingWindowSchema,
  maxConcurrent: z.number().int().min(1).max(1_000).default(1),
  cps: z.number().min(0.1).max(100).default(1),
  retry: retryPolicySchema.default({ maxAttempts: 3, delaysSeconds: { busy: [1_800, 7_200, 86_400], noAnswer: [3_600, 14_400, 86_400], failed: [3_600], voicemail: [86_400] } }),
  voicemailMessage: z.string().trim().min(1).max(2_000).optional(),
});
export type CampaignCreate = z.infer<typeof campaignCreateSchema>;

/** A campaign as stored and shown. */
export interface Campaign {
  id: string;
  name: string;
  agentId: string;
  state: CampaignState;
  callerIds: CallerId[];
  defaultRegion: string | null;
  window: CallingWindow;
  maxConcurrent: number;
  cps: number;
  retry: RetryPolicy;
  voicemailMessage: string | null;
  pauseReason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One contact of a campaign. `timezones`: IANA zones; dialing needs the window open in all of them. */
export interface CampaignContact {
  id: string;
  campaignId: string;
  phone: string;
  name: string | null;
  timezones: string[];
  language: string | null;
  variables: Record<string, string>;
  state: ContactState;
  attempts: number;
  nextAttemptAt: string | null;
  lastOutcome: string | null;
  lastCallSid: string | null;
}

/** How a dial ended, as the dispatcher records it (from Twilio's CallStatus and AMD). */
export const ATTEMPT_OUTCOMES = ['completed', 'voicemail', 'busy', 'no-answer', 'failed', 'canceled', 'opted-out', 'fax'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
