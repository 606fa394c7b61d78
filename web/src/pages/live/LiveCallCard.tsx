import { Badge, Button, Card, Group, Popover, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { hangUpLiveCall, listenUrl, transferLiveCall, type LiveCallSnapshot } from '../../api/live';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { LiveTranscript } from '../../components/LiveTranscript';
import { useCan } from '../../auth/session';
import { ListenPlayer } from './listen-player';

/** Listen-in toggle: opens the call's listen WebSocket and plays its frames; closing stops both. */
function ListenButton({ callSid }: { callSid: string }) {
  const [on, setOn] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const stop = useRef<(() => void) | null>(null);
  useEffect(() => () => stop.current?.(), []);
  const start = async () => {
    setError(null);
    const player = new ListenPlayer();
    await player.resume();
    const ws = new WebSocket(listenUrl(callSid));
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => m.data instanceof ArrayBuffer && player.push(m.data);
    ws.onclose = (e) => {
      if (e.code !== 1000) setError(`listen-in closed: ${e.reason || `code ${e.code}`}`);
      setOn(false);
      void player.close();
    };
    stop.current = () => ws.close(1000);
    setOn(true);
  };
  return (
    <>
      <Button size="xs" variant={on ? 'filled' : 'light'} onClick={() => (on ? stop.current?.() : void start())} aria-pressed={on}>
        {on ? 'Stop listening' : 'Listen in'}
      </Button>
      {error && (
        <Text size="xs" c="red.8" role="alert">
          {error}
        </Text>
      )}
    </>
  );
}

/** Transfer: a number field in a popover, then POST …/transfer; the API's validation issues show under the field. */
function TransferButton({ callSid }: { callSid: string }) {
  const [to, setTo] = useState('');
  const m = useMutation({ mutationFn: () => transferLiveCall(callSid, to) });
  return (
    <Popover trapFocus position="bottom" withArrow>
      <Popover.Target>
        <Button size="xs" variant="light">
          Transfer
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs">
          <TextInput label="Transfer to" placeholder="+14155550123" value={to} onChange={(e) => setTo(e.currentTarget.value)} size="xs" />
          <Button size="xs" onClick={() => m.mutate()} loading={m.isPending} disabled={!to.trim()}>
            Transfer now
          </Button>
          {m.isSuccess && <Text size="xs">Transfer requested.</Text>}
          <ApiErrorAlert error={m.error} title="Not transferred" />
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}

/**
 * One live call: who, which agent, since when; its streaming transcript with each agent turn's latency; for a
 * supervisor: listen in, transfer to a number, hang up.
 */
export function LiveCallCard({ call }: { call: LiveCallSnapshot }) {
  const supervisor = useCan('supervisor');
  const hangUp = useMutation({ mutationFn: () => hangUpLiveCall(call.callSid) });
  return (
    <Card withBorder data-testid={`live-call-${call.callSid}`}>
      <Group justify="space-between" mb="xs">
        <Stack gap={0}>
          <Text fw={600}>
            {call.from} → {call.to}
          </Text>
          <Text size="xs" c="dimmed">
            {call.agentId} · since {new Date(call.startedAt).toLocaleTimeString()} · {call.callSid}
          </Text>
        </Stack>
        <Badge variant="light">{call.direction}</Badge>
      </Group>
      <ScrollArea.Autosize mah={260}>
        <LiveTranscript turns={call.turns} label={`Transcript of ${call.from}`} />
      </ScrollArea.Autosize>
      {supervisor && (
        <Group mt="sm" gap="xs">
          <ListenButton callSid={call.callSid} />
          <TransferButton callSid={call.callSid} />
          <Button size="xs" color="red" variant="outline" onClick={() => hangUp.mutate()} loading={hangUp.isPending}>
            Hang up
          </Button>
        </Group>
      )}
      <ApiErrorAlert error={hangUp.error} title="Not hung up" />
    </Card>
  );
}
