import { Checkbox, SimpleGrid } from '@mantine/core';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types';

/** The event-type checkboxes of the catalog (a labelled group; `error` e.g. "subscribe to at least one event type"). */
export function EventTypesField({ value, onChange, error, label = 'Event types' }: { value: WebhookEventType[]; onChange: (v: WebhookEventType[]) => void; error?: string; label?: string }) {
  return (
    <Checkbox.Group label={label} value={value} onChange={(v) => onChange(v as WebhookEventType[])} error={error} withAsterisk>
      <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing="xs">
        {WEBHOOK_EVENT_TYPES.map((e) => (
          <Checkbox key={e.type} value={e.type} label={e.type} description={e.help} />
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}
