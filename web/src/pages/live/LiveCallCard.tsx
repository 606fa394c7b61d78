import { Badge, Box, Button, Card, Group, Popover, Stack, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { memo, useEffect, useRef, useState } from 'react';
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

/** Off-screen cards are not laid out or painted; their last rendered size (else ~320 px) holds their place. */
const CARD_STYLE = { contentVisibility: 'auto', containIntrinsicSize: 'auto 320px' } as const;

/** Who, which agent, since when (memoized: a new turn does not re-render it). */
const LiveCallHeader = memo(function LiveCallHeader({ call }: { call: Omit<LiveCallSnapshot, 'turns'> }) {
  return (
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
  );
}, sameCall);

/** Header props equal when the call's own fields are (a new turn makes a new call object with the same fields). */
function sameCall(a: { call: Omit<LiveCallSnapshot, 'turns'> }, b: { call: Omit<LiveCallSnapshot, 'turns'> }): boolean {
  const x = a.call;
  const y = b.call;
  return x.callSid === y.callSid && x.from === y.from && x.to === y.to && x.agentId === y.agentId && x.startedAt === y.startedAt && x.direction === y.direction;
}

/** A supervisor's listen in, transfer and hang up (memoized on the callSid). */
const SupervisorActions = memo(function SupervisorActions({ callSid }: { callSid: string }) {
  const hangUp = useMutation({ mutationFn: () => hangUpLiveCall(callSid) });
  return (
    <>
      <Group mt="sm" gap="xs">
        <ListenButton callSid={callSid} />
        <TransferButton callSid={callSid} />
        <Button size="xs" color="red" variant="outline" onClick={() => hangUp.mutate()} loading={hangUp.isPending}>
          Hang up
        </Button>
      </Group>
      <ApiErrorAlert error={hangUp.error} title="Not hung up" />
    </>
  );
});

/**
 * One live call: who, which agent, since when; its streaming transcript with each agent turn's latency; for a
 * supervisor: listen in, transfer to a number, hang up. Memoized: a card re-renders only when its call object
 * changes (the page's state keeps the objects of untouched calls), and then only its transcript's new rows.
 */
export const LiveCallCard = memo(function LiveCallCard({ call }: { call: LiveCallSnapshot }) {
  const supervisor = useCan('supervisor');
  return (
    // content-visibility: the browser skips layout and paint of the cards off screen (most of them at 250 calls).
    <Card withBorder data-testid={`live-call-${call.callSid}`} style={CARD_STYLE}>
      <LiveCallHeader call={call} />
      {/* A native scroll box (focusable: keyboard users can scroll it): Mantine's ScrollArea measures and repositions
          its thumbs in script on every resize, which at 250 growing transcripts kept the main thread busy. */}
      <Box mah={260} style={{ overflowY: 'auto' }} tabIndex={0}>
        <LiveTranscript turns={call.turns} label={`Transcript of ${call.from}`} />
      </Box>
      {supervisor && <SupervisorActions callSid={call.callSid} />}
    </Card>
  );
});
