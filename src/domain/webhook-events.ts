import { z } from 'zod';
import { dispositionSchema } from './disposition';

/**
 * The webhook event catalog (version {@link WEBHOOK_EVENTS_VERSION}): every event type we send to webhook endpoints,
 * with the zod schema of its `data`. The OpenAPI document's `webhooks` section is generated from these schemas
 * (src/http/api/webhook-docs.ts), and src/db/webhook-outbox.ts validates each event against them before writing it.
 *
 * Envelope (the signed JSON body; Standard Webhooks, standardwebhooks.com): `{ type, version, timestamp (ISO 8601),
 * sequence, subject: { kind: 'call' | 'campaign', id }, data }`. `sequence` counts the subject's events from 1 (a
 * call's events, or a campaign's events — `campaign.contact.completed` counts in its campaign), so a receiver can
 * order them; each endpoint gets one subject's events in that order (src/webhooks/delivery-worker.ts; a replay may
 * repeat an older one). `webhook-id` is the event id (`msg_…`), the same on every retry and
 * replay. A new field is added without a version change; a removed or retyped one bumps `version`.
 */
export const WEBHOOK_EVENTS_VERSION = 1;

const iso = z.iso.datetime({ offset: true });
const callRef = { callSid: z.string(), direction: z.string(), from: z.string(), to: z.string() };

/** `data` schema per event type. */
export const WEBHOOK_EVENT_SCHEMAS = {
  'call.started': z.object({ ...callRef, agentId: z.string(), campaignId: z.string().nullable(), startedAt: iso }).meta({ description: 'The media stream started: the agent is on the call.' }),
  'call.ended': z.object({ ...callRef, status: z.string(), endedAt: iso.nullable() }).meta({ description: 'The call ended (stream stopped or a terminal Twilio status).' }),
  'call.transferred': z.object({ callSid: z.string(), target: z.string(), reason: z.string(), summary: z.string(), at: iso }).meta({ description: 'A warm transfer to a person was started.' }),
  'call.completed': z
    .object({
      ...callRef,
      language: z.string().nullable(),
      turns: z.array(z.object({ role: z.enum(['caller', 'agent']), text: z.string(), language: z.string().nullable(), startMs: z.number(), endMs: z.number() })),
      intent: z.string().nullable(),
      csat: z.object({ score: z.number(), method: z.string() }).nullable(),
      summary: z.string().nullable().meta({ description: 'Post-call summary (a few sentences), null when the call was not analysed.' }),
      disposition: dispositionSchema.nullable().meta({ description: 'How the call ended (src/domain/disposition.ts), null when not analysed.' }),
      extractedFields: z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
        .nullable()
        .meta({ description: "The agent's extracted fields (its extractionSchema), null when not analysed." }),
      status: z.string(),
      startedAt: iso,
      endedAt: iso.nullable(),
    })
    .meta({ description: 'Post-call work is done: the transcript, intent, summary, disposition, extracted fields and CSAT (the same fields as the CRM webhook).' }),
  'voicemail.left': z.object({ callSid: z.string(), played: z.boolean(), campaignId: z.string().nullable(), contactId: z.string().nullable() }).meta({ description: 'An answering machine heard the voicemail message (`played`: every mark came back).' }),
  'contact.opted_out': z
    .object({ callSid: z.string(), number: z.string(), via: z.enum(['phrase', 'dtmf', 'tool']), campaignId: z.string().nullable(), contactId: z.string().nullable() })
    .meta({ description: 'The callee asked not to be called again: the number is on the DNC list.' }),
  'campaign.started': z.object({ campaignId: z.string(), name: z.string(), resumed: z.boolean() }).meta({ description: 'The campaign started (or resumed after a pause).' }),
  'campaign.paused': z.object({ campaignId: z.string(), reason: z.string().nullable() }).meta({ description: 'The campaign was paused (by a user, or by the dial breaker with its reason).' }),
  'campaign.completed': z.object({ campaignId: z.string(), finishedAt: iso }).meta({ description: 'Every contact of the campaign reached a final state.' }),
  'campaign.contact.completed': z
    .object({ campaignId: z.string(), contactId: z.string(), state: z.enum(['done', 'failed', 'opted-out']), outcome: z.string(), callSid: z.string().nullable(), attempts: z.number().int() })
    .meta({ description: 'A contact reached a final state (no more attempts).' }),
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_SCHEMAS;
export type WebhookEventData<T extends WebhookEventType> = z.infer<(typeof WEBHOOK_EVENT_SCHEMAS)[T]>;

/** Every event type, in catalog order. */
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_SCHEMAS) as WebhookEventType[];

/** Zod enum of the event types (endpoint subscriptions are validated with it). */
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES as [WebhookEventType, ...WebhookEventType[]]);

/** What an event is about; its sequence numbers count per subject. */
export type WebhookSubject = { kind: 'call' | 'campaign'; id: string };

/** The signed body of one event (see the module comment). */
export interface WebhookEnvelope<T extends WebhookEventType = WebhookEventType> {
  type: T;
  version: number;
  timestamp: string;
  sequence: number;
  subject: WebhookSubject;
  data: WebhookEventData<T>;
}

/** The envelope schema of one event type (for the OpenAPI `webhooks` section and receivers' tests). */
export function webhookEnvelopeSchema(type: WebhookEventType) {
  return z.object({
    type: z.literal(type),
    version: z.literal(WEBHOOK_EVENTS_VERSION),
    timestamp: iso,
    sequence: z.number().int().min(1).meta({ description: "Counts the subject's events from 1." }),
    subject: z.object({ kind: z.enum(['call', 'campaign']), id: z.string() }),
    data: WEBHOOK_EVENT_SCHEMAS[type],
  });
}
