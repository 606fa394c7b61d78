import { Badge, Group, Paper, Stack, Text } from '@mantine/core';
import type { Schema } from '../../api/client';
import { formatOffset } from '../../lib/format';

type Turn = Schema<'CallDetail'>['turns'][number];

/**
 * The call's transcript as a timeline: each turn with its speaker, offset into the call and length. An interrupted
 * agent turn shows the text the caller heard, marks where the caller cut in, then the rest of the reply the agent
 * had (`unheardText`) struck through and dimmed, labelled "not heard" for screen readers and sighted users alike.
 */
export function Transcript({ turns }: { turns: Turn[] }) {
  if (!turns.length) return <Text c="dimmed">No turns were stored for this call.</Text>;
  return (
    <Stack gap="xs" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Transcript">
      {turns.map((t, i) => (
        <Paper
          key={i}
          component="li"
          withBorder
          p="sm"
          data-testid="turn"
          data-role={t.role}
          style={{ marginLeft: t.role === 'agent' ? 0 : '3rem', marginRight: t.role === 'agent' ? '3rem' : 0, background: t.role === 'agent' ? 'var(--mantine-color-blue-0)' : undefined }}
        >
          <Group gap="xs" mb={4}>
            <Text fw={700} size="sm">
              #{i + 1} {t.role === 'agent' ? 'Agent' : 'Caller'}
            </Text>
            <Text size="sm" c="dimmed">
              {formatOffset(t.startMs)}–{formatOffset(t.endMs)}
            </Text>
            {t.language && (
              <Badge size="sm" variant="outline" color="gray">
                {t.language}
              </Badge>
            )}
            {t.interrupted && (
              <Badge size="sm" color="orange">
                interrupted
              </Badge>
            )}
          </Group>
          <Text>
            {t.text}
            {t.interrupted && !t.unheardText && (
              <Text span c="dimmed" fs="italic">
                {' '}
                — the caller cut in here; the rest of the reply was not heard
              </Text>
            )}
          </Text>
          {t.interrupted && t.unheardText && <Unheard text={t.unheardText} />}
        </Paper>
      ))}
    </Stack>
  );
}

/** The part of a cut reply the caller did not hear: labelled, then the text struck through (a `<del>`) and dimmed. */
function Unheard({ text }: { text: string }) {
  return (
    <Text size="sm" c="dimmed" mt={4} data-testid="unheard">
      <Text span fs="italic">
        Caller cut in here; not heard:
      </Text>{' '}
      <Text span component="del" td="line-through">
        {text}
      </Text>
    </Text>
  );
}
