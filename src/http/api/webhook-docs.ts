import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { WEBHOOK_EVENT_SCHEMAS, WEBHOOK_EVENT_TYPES, WEBHOOK_EVENTS_VERSION, webhookEnvelopeSchema } from '../../domain/webhook-events';

const HEADERS = {
  'webhook-id': { required: true, description: 'The event id (`msg_…`): the same on every retry and replay; dedupe on it.', schema: { type: 'string' } },
  'webhook-timestamp': { required: true, description: 'Signing time, unix seconds; reject it outside your tolerance (e.g. 5 min).', schema: { type: 'string' } },
  'webhook-signature': {
    required: true,
    description: 'Space-separated `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>` entries (two during a secret rotation); accept the message if any verifies.',
    schema: { type: 'string' },
  },
} as const;

/**
 * The OpenAPI 3.1 `webhooks` section: one POST per event type of the catalog (src/domain/webhook-events.ts), its
 * body the event envelope with the type's `data` schema, and the Standard Webhooks headers (standardwebhooks.com).
 */
export function webhookDocs(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: type,
          description: `${WEBHOOK_EVENT_SCHEMAS[type].description ?? ''} Catalog version ${WEBHOOK_EVENTS_VERSION}. Signed per Standard Webhooks; retried with exponential backoff for about a day on a non-2xx answer.`,
          tags: ['webhooks'],
          parameters: Object.entries(HEADERS).map(([name, h]) => ({ name, in: 'header', ...h })),
          requestBody: { required: true, content: { 'application/json': { schema: webhookEnvelopeSchema(type) } } },
          responses: { '200': { description: 'Any 2xx acknowledges the event; 408, 429 and 5xx are retried; other 4xx end the delivery.' } },
        },
      },
    ]),
  ) as ZodOpenApiPathsObject;
}
