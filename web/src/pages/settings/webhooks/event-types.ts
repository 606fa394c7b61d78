import type { Schema } from '../../../api/client';

/** A webhook event type of the server's catalog (src/domain/webhook-events.ts), from the generated API types. */
export type WebhookEventType = Schema<'WebhookEndpoint'>['eventTypes'][number];

/**
 * Every event type, in catalog order, with a line on when it is sent. The generated types list the catalog only as a
 * type, so the values are spelled here; {@link _everyTypeListed} fails the web type check when the catalog gains a
 * type this list lacks (and `satisfies` when it lists one the catalog dropped).
 */
export const WEBHOOK_EVENT_TYPES = [
  { type: 'call.started', help: 'the agent is on the call' },
  { type: 'call.ended', help: 'the call ended' },
  { type: 'call.transferred', help: 'a warm transfer started' },
  { type: 'call.completed', help: 'transcript, intent and CSAT are ready' },
  { type: 'voicemail.left', help: 'a voicemail message was played' },
  { type: 'contact.opted_out', help: 'the callee asked not to be called' },
  { type: 'campaign.started', help: 'a campaign started or resumed' },
  { type: 'campaign.paused', help: 'a campaign was paused' },
  { type: 'campaign.completed', help: 'every contact reached a final state' },
  { type: 'campaign.contact.completed', help: 'a contact reached a final state' },
] as const satisfies readonly { type: WebhookEventType; help: string }[];

type Unlisted = Exclude<WebhookEventType, (typeof WEBHOOK_EVENT_TYPES)[number]['type']>;
/** Compile-time check: `true` only while every catalog type is listed above. */
export const _everyTypeListed: [Unlisted] extends [never] ? true : never = true;
