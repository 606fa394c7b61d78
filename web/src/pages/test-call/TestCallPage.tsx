import { Alert, Button, Card, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { LiveTurn, TurnTimings } from '../../api/live';
import { LiveTranscript } from '../../components/LiveTranscript';
import { useAgents } from '../campaigns/campaign-api';
import { startTestCall, type TestCall } from '../../test-call/client';
import workletUrl from '../../test-call/audio-worklet.ts?worker&url';

type Phase = 'idle' | 'starting' | 'in-call' | 'ended';

/**
 * Test call: talk to an agent from the browser (microphone → the same engine as phone calls, direction `web`).
 * Pick an agent (`?agentId=` preselects it, e.g. from the agent page), start, and watch the live transcript and
 * each turn's latency and how much agent audio has arrived; hang up ends it. The audio path is web/src/test-call/client.ts.
 */
export default function TestCallPage() {
  const [params] = useSearchParams();
  const agents = useAgents();
  const [agentId, setAgentId] = useState<string | null>(params.get('agentId'));
  const [phase, setPhase] = useState<Phase>('idle');
  const [turns, setTurns] = useState<LiveTurn[]>([]);
  const [latencies, setLatencies] = useState<TurnTimings[]>([]);
  const [error, setError] = useState<string | null>(null);
  const call = useRef<TestCall | null>(null);
  /** Seconds of agent audio received (8 kHz mu-law: 8000 bytes a second), read twice a second while in the call. */
  const [agentAudioS, setAgentAudioS] = useState(0);
  useEffect(() => () => call.current?.hangUp(), []);
  useEffect(() => {
    if (phase !== 'in-call') return;
    const t = setInterval(() => setAgentAudioS((call.current?.agentAudioBytes ?? 0) / 8000), 500);
    return () => clearInterval(t);
  }, [phase]);

  const start = async () => {
    if (!agentId) return;
    setError(null);
    setTurns([]);
    setLatencies([]);
    setAgentAudioS(0);
    setPhase('starting');
    try {
      call.current = await startTestCall({
        agentId,
        workletUrl,
        onTranscript: (t) => setTurns((ts) => [...ts, t]),
        onTurnLatency: (_seq, timings) => setLatencies((l) => [...l, timings]),
        onEnd: (end) => {
          call.current = null;
          setPhase('ended');
          if (!end.byUser && end.code !== 1000) setError(`The call ended: ${end.reason || `code ${end.code}`}`);
        },
      });
      setPhase((p) => (p === 'starting' ? 'in-call' : p));
    } catch (err) {
      setPhase('idle');
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <Stack maw={900}>
      <Title order={1} size="h2">
        Test call
      </Title>
      <Group align="end">
        <Select
          label="Agent"
          searchable
          data={(agents.data ?? []).map((a) => ({ value: a.id, label: `${a.name} (${a.id})` }))}
          value={agentId}
          onChange={setAgentId}
          disabled={phase === 'starting' || phase === 'in-call'}
          error={agents.error?.message}
          w={320}
        />
        {phase === 'in-call' || phase === 'starting' ? (
          <Button color="red" onClick={() => call.current?.hangUp()} loading={phase === 'starting'}>
            Hang up
          </Button>
        ) : (
          <Button onClick={() => void start()} disabled={!agentId}>
            Start test call
          </Button>
        )}
        <Text size="sm" aria-live="polite" data-testid="test-call-phase">
          {phase === 'in-call' ? 'In call: speak now' : phase === 'ended' ? 'Call ended' : ''}
        </Text>
        {phase !== 'idle' && (
          <Text size="sm" data-testid="agent-audio">
            Agent audio received: {agentAudioS.toFixed(1)} s
          </Text>
        )}
      </Group>
      {error && (
        <Alert color="red" title="Test call">
          {error}
        </Alert>
      )}
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Transcript
        </Title>
        <LiveTranscript turns={turns} label="Test call transcript" />
      </Card>
      {latencies.length > 0 && (
        <Table aria-label="Turn latency">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Turn</Table.Th>
              <Table.Th>Reply (ms)</Table.Th>
              <Table.Th>Endpointing</Table.Th>
              <Table.Th>STT</Table.Th>
              <Table.Th>LLM first token</Table.Th>
              <Table.Th>TTS first byte</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {latencies.map((t, i) => (
              <Table.Tr key={i}>
                <Table.Td>{i + 1}</Table.Td>
                {[t.replyLatencyMs, t.endpointingMs, t.sttMs, t.llmFirstTokenMs, t.ttsFirstByteMs].map((v, j) => (
                  <Table.Td key={j}>{v === undefined ? '—' : Math.round(v)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
