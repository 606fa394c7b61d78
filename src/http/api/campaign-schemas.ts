import { z } from 'zod';
import 'zod-openapi';
import {
  CAMPAIGN_STATES,
  CONTACT_STATES,
  callerIdSchema,
  callingWindowSchema,
  campaignCreateSchema,
  retryPolicySchema,
  type Campaign,
} from '../../domain/campaign';

/** Response shapes and examples of the campaigns API (src/http/api/campaigns.ts, campaign-contacts.ts). */

const time = z.iso.datetime({ offset: true });
const WINDOW = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri'>, start: '09:00', end: '20:00', blackoutDates: ['2026-12-25'] };
const RETRY = { maxAttempts: 3, delaysSeconds: { busy: [1800, 7200, 86400], noAnswer: [3600, 14400, 86400], failed: [3600], voicemail: [86400] } };

export const CAMPAIGN_EXAMPLE: Campaign = {
  id: '3b8e8d7a-6a43-4f0e-9d0c-1f6b2a7c9e11',
  name: 'December renewals',
  agentId: 'renewals-en',
  state: 'draft',
  callerIds: [{ number: '+14155550100', dailyCap: 500 }],
  defaultRegion: 'US',
  window: WINDOW,
  maxConcurrent: 3,
  cps: 1,
  retry: RETRY,
  voicemailMessage: 'Hi {{first_name}}, this is Acme about your renewal. Please call us back.',
  pauseReason: null,
  startedAt: null,
  finishedAt: null,
  createdAt: '2026-12-02T10:00:00.000Z',
  updatedAt: '2026-12-02T10:00:00.000Z',
};

/** The create body that made {@link CAMPAIGN_EXAMPLE}: its fields minus what the server sets. */
const { id: _id, state: _state, pauseReason: _pauseReason, startedAt: _startedAt, finishedAt: _finishedAt, createdAt: _createdAt, updatedAt: _updatedAt, ...createFields } = CAMPAIGN_EXAMPLE;
export const CREATE_EXAMPLE = { ...createFields, defaultRegion: createFields.defaultRegion ?? undefined, voicemailMessage: createFields.voicemailMessage ?? undefined };

/** A campaign as responses show it. */
export const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    agentId: z.string(),
    state: z.enum(CAMPAIGN_STATES),
    callerIds: z.array(z.object({ number: z.string(), dailyCap: z.number().int().nullable() })),
    defaultRegion: z.string().nullable(),
    window: z.object({ days: z.array(z.string()), start: z.string(), end: z.string(), blackoutDates: z.array(z.string()) }),
    maxConcurrent: z.number().int(),
    cps: z.number(),
    retry: z.object({ maxAttempts: z.number().int(), delaysSeconds: z.record(z.string(), z.array(z.number().int())) }),
    voicemailMessage: z.string().nullable(),
    pauseReason: z.string().nullable().meta({ description: 'Why the system paused it (dial-failure circuit breaker), or null.' }),
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: 'Campaign', example: CAMPAIGN_EXAMPLE });

const counts = z.object(Object.fromEntries(CONTACT_STATES.map((s) => [s, z.number().int()])) as Record<(typeof CONTACT_STATES)[number], z.ZodNumber>);
const funnel = z.object({
  contacts: z.number().int(),
  dialed: z.number().int(),
  answered: z.number().int(),
  human: z.number().int(),
  conversation: z.number().int(),
  voicemail: z.number().int(),
  transferred: z.number().int(),
  completed: z.number().int(),
  optedOut: z.number().int(),
});

/** `GET /api/campaigns/:id`: the campaign and its progress. */
export const campaignProgressSchema = campaignSchema
  .extend({
    counts: counts.meta({ description: 'Contacts per state (every state, 0 included).' }),
    funnel: funnel.meta({
      description:
        'Contacts (not attempts) reaching each step: dialed ≥ 1 attempt; answered; human (AMD human, or no/unknown AMD with a conversation); conversation (≥ 1 caller turn); voicemail (machine end or voicemail played); transferred; completed (state done); optedOut.',
    }),
    attemptsUsed: z.number().int(),
    eta: z
      .object({
        remainingContacts: z.number().int(),
        callsPerSecond: z.number(),
        seconds: z.number().int(),
      })
      .meta({
        description:
          'remainingContacts = pending + retry-scheduled + dialing + in-progress; callsPerSecond = min(cps, maxConcurrent / mean attempt duration (60 s until an attempt has ended)); seconds = ceil(remainingContacts / callsPerSecond). Dialing time only: hours outside the calling window and future retries are not counted.',
      }),
  })
  .meta({ id: 'CampaignProgress' });

export const PROGRESS_EXAMPLE = {
  ...CAMPAIGN_EXAMPLE,
  state: 'running',
  startedAt: '2026-12-02T10:05:00.000Z',
  counts: { pending: 80, dialing: 1, 'in-progress': 2, 'retry-scheduled': 5, done: 10, failed: 1, 'opted-out': 1, suppressed: 0 },
  funnel: { contacts: 100, dialed: 20, answered: 14, human: 10, conversation: 9, voicemail: 4, transferred: 2, completed: 10, optedOut: 1 },
  attemptsUsed: 24,
  eta: { remainingContacts: 88, callsPerSecond: 0.05, seconds: 1760 },
};

/** `PATCH /api/campaigns/:id` body: any create field; `null` clears defaultRegion / voicemailMessage. */
export const campaignPatchSchema = z
  .strictObject({
    name: campaignCreateSchema.shape.name.optional(),
    agentId: campaignCreateSchema.shape.agentId.optional(),
    callerIds: z.array(callerIdSchema).min(1).max(100).optional(),
    defaultRegion: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. US').nullable().optional(),
    window: callingWindowSchema.optional(),
    maxConcurrent: z.number().int().min(1).max(1_000).optional(),
    cps: z.number().min(0.1).max(100).optional(),
    retry: retryPolicySchema.optional(),
    voicemailMessage: z.string().trim().min(1).max(2_000).nullable().optional(),
  })
  .meta({ id: 'CampaignPatch' });

/** Fields a running or paused campaign may change (pacing, window, retries, wording). */
export const LIVE_EDITABLE = new Set(['name', 'maxConcurrent', 'cps', 'window', 'retry', 'voicemailMessage']);

/** One contact as `GET /api/campaigns/:id/contacts` shows it. */
export const contactSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    phone: z.string().meta({ description: 'E.164.' }),
    name: z.string().nullable(),
    timezones: z.array(z.string()).meta({ description: 'IANA zones; the window must be open in every one to dial.' }),
    language: z.string().nullable(),
    variables: z.record(z.string(), z.string()),
    state: z.enum(CONTACT_STATES),
    attempts: z.number().int(),
    nextAttemptAt: time.nullable(),
    lastOutcome: z.string().nullable(),
    lastCallSid: z.string().nullable(),
  })
  .meta({
    id: 'CampaignContact',
    example: {
      id: '17',
      campaignId: CAMPAIGN_EXAMPLE.id,
      phone: '+14155550123',
      name: 'Ada Lovelace',
      timezones: ['America/Los_Angeles'],
      language: 'en',
      variables: { first_name: 'Ada', plan: 'gold' },
      state: 'pending',
      attempts: 0,
      nextAttemptAt: null,
      lastOutcome: null,
      lastCallSid: null,
    },
  });

/** Result of a contact import. */
export const importResultSchema = z
  .object({
    accepted: z.number().int().meta({ description: 'Valid rows stored (new contacts + duplicates merged).' }),
    rejected: z.array(z.object({ line: z.number().int(), reason: z.string() })).meta({ description: 'Invalid rows with their line (CSV; the header is line 1) or position (JSON, from 1); at most 1000 listed.' }),
    rejectedCount: z.number().int(),
    duplicates: z.number().int().meta({ description: 'Rows merged into an earlier row or a stored contact (later values win).' }),
    suppressed: z.number().int().meta({ description: 'Contacts on the DNC list, stored as suppressed.' }),
  })
  .meta({ id: 'ContactImportResult' });
