import { Badge, Group, Stack, Text } from '@mantine/core';
import { memo } from 'react';
import type { LiveTurn, TurnTimings } from '../api/live';

const STAGES: Array<[keyof TurnTimings, string]> = [
  ['endpointingMs', 'endpointing'],
  ['sttMs', 'STT'],
  ['llmFirstTokenMs', 'LLM first token'],
  ['ttsFirstByteMs', 'TTS first byte'],
];

/** An agent turn's latency: the reply latency (caller stopped → first agent audio, ms) and its stages. */
export function TurnLatency({ timings }: { timings: TurnTimings }) {
  const parts = STAGES.filter(([k]) => typeof timings[k] === 'number').map(([k, label]) => `${label} ${Math.round(timings[k] as number)} ms`);
  return (
    <Group gap={4}>
      {typeof timings.replyLatencyMs === 'number' && (
        <Badge size="sm" variant="light" color={timings.replyLatencyMs > 1500 ? 'red' : 'teal'}>
          reply {Math.round(timings.replyLatencyMs)} ms
        </Badge>
      )}
      <Text size="xs" c="dimmed">
        {parts.join(' · ')}
        {timings.fillerPlayed ? ' · filler played' : ''}
      </Text>
    </Group>
  );
}

/**
 * One turn: speaker, text (an interrupted agent turn marked, with what the caller did not hear struck through) and an agent turn's latency. Memoized: the live page
 * keeps a turn's object once received, so a new turn renders one row, not the whole transcript again.
 */
const TurnRow = memo(function TurnRow({ turn: t }: { turn: LiveTurn }) {
  return (
    <Stack gap={2}>
      <Text size="sm">
        <Text span fw={600}>
          {t.role === 'caller' ? 'Caller' : 'Agent'}:
        </Text>{' '}
        {t.text}
        {t.interrupted && (
          <Text span size="xs" c="orange.9">
            {' '}
            (interrupted)
          </Text>
        )}
        {t.interrupted && t.unheardText && (
          <Text span size="xs" c="dimmed">
            {' '}
            not heard:{' '}
            <Text span inherit component="del" td="line-through">
              {t.unheardText}
            </Text>
          </Text>
        )}
      </Text>
      {t.role === 'agent' && t.timings && <TurnLatency timings={t.timings} />}
    </Stack>
  );
});

/**
 * A call's transcript as it streams: each turn with its speaker, text (an interrupted agent turn shows what the
 * caller heard, marked, then what they did not hear struck through), and an agent turn's latency. `label` names the
 * region for screen readers.
 */
export function LiveTranscript({ turns, label }: { turns: LiveTurn[]; label: string }) {
  return (
    <Stack gap={6} role="log" aria-label={label} aria-live="polite">
      {turns.length === 0 && (
        <Text size="sm" c="dimmed">
          No turns yet.
        </Text>
      )}
      {turns.map((t) => (
        <TurnRow key={t.seq} turn={t} />
      ))}
    </Stack>
  );
}
