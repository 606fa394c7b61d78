import { Alert, Button, Group, Loader, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import WaveSurfer from 'wavesurfer.js';
import { formatDuration } from '../../lib/format';

type LoadState = 'loading' | 'ready' | 'missing' | 'error';

/** Channel colours of the split waveform: caller (left channel, top), agent (right channel, bottom). */
const CHANNELS = [
  { waveColor: '#74c0fc', progressColor: '#1864ab' },
  { waveColor: '#b2f2bb', progressColor: '#2b8a3e' },
];

/**
 * A call's recording (`url`: the API's `recordingUrl`, a two-channel WAV, caller left / agent right) as a wavesurfer.js
 * waveform with both channels drawn apart (`splitChannels`: caller on top, agent below), a play/pause button and the
 * position / duration. wavesurfer fetches the file (same origin: the session cookie goes with it) and plays it through
 * the `<audio>` element rendered here (a `blob:` URL: the dashboard's CSP allows `media-src blob:`). A 404 (the file is
 * gone, or this server has no storage for it) shows "No recording"; other failures show their message.
 */
export function RecordingPlayer({ url }: { url: string }) {
  const waveRef = useRef<HTMLDivElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const wsRef = useRef<WaveSurfer | null>(null);
  const [state, setState] = useState<LoadState>('loading');
  const [error, setError] = useState('');
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);

  useEffect(() => {
    if (!waveRef.current || !audioRef.current) return;
    setState('loading');
    const ws = WaveSurfer.create({
      container: waveRef.current,
      media: audioRef.current,
      url,
      height: 56,
      normalize: true,
      splitChannels: CHANNELS,
      fetchParams: { credentials: 'same-origin' },
    });
    wsRef.current = ws;
    const unsubs = [
      ws.on('ready', (d) => {
        setDuration(d);
        setState('ready');
      }),
      ws.on('timeupdate', (t) => setTime(t)),
      ws.on('play', () => setPlaying(true)),
      ws.on('pause', () => setPlaying(false)),
      ws.on('finish', () => setPlaying(false)),
      ws.on('error', (e: Error) => {
        if (/: 404\b/.test(e.message)) setState('missing');
        else {
          setError(e.message);
          setState('error');
        }
      }),
    ];
    return () => {
      unsubs.forEach((u) => u());
      ws.destroy();
      wsRef.current = null;
    };
  }, [url]);

  return (
    <>
      {state === 'missing' && <Text c="dimmed">No recording.</Text>}
      {state === 'error' && (
        <Alert color="red" title="Could not load the recording">
          {error}
        </Alert>
      )}
      <div hidden={state === 'missing' || state === 'error'}>
        <Group gap="xs" mb={4}>
          <Text size="sm" c="dimmed">
            Top: caller · bottom: agent
          </Text>
          {state === 'loading' && <Loader size="xs" aria-label="Loading the recording" />}
        </Group>
        <div ref={waveRef} role="img" aria-label="Recording waveform: caller channel on top, agent channel below" data-testid="recording-waveform" />
        <audio ref={audioRef} aria-label="Call recording" data-testid="recording-audio" />
        <Group mt="sm">
          <Button size="xs" data-testid="recording-play" disabled={state !== 'ready'} onClick={() => void wsRef.current?.playPause()}>
            {playing ? 'Pause' : 'Play'}
          </Button>
          <Text size="sm" data-testid="recording-time">
            Position {formatDuration(Math.floor(time) * 1000)} / {formatDuration(duration * 1000)}
          </Text>
        </Group>
      </div>
    </>
  );
}
