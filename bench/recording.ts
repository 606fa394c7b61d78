import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { pcmToMulaw8k } from '../src/audio/frames';
import { parseWav } from '../src/audio/wav';
import { FIXTURE_AUDIO_DIR } from '../src/eval/references';
import { RecordingWriter } from '../src/recordings/recording-writer';
import { LocalRecordingStorage } from '../src/recordings/storage';

/**
 * Micro-benchmark of the recording call tap's cost on the audio path (`npx tsx bench/recording.ts [--calls 20]
 * [--seconds 300]`): `calls` recordings of `seconds` each, interleaved frame by frame as concurrent calls are, on a
 * clock advanced 20 ms per frame (so 1 s chunks are written as in a real call; the writes go to a temp dir). The
 * caller speaks LibriVox 0870 in a loop; the agent sends 2 s of LibriVox 0880 every 10 s and is cleared (barge-in)
 * every 30 s. Prints one JSON line: the synchronous time per caller frame spent in the tap (`onInbound` with its
 * share of decoding and chunking, plus `onOutbound` / `onClear`), in ns, and the time to close (header, rename).
 * No database: the row and the event are stubbed.
 */
async function main(): Promise<void> {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const calls = arg('calls', 20);
  const seconds = arg('seconds', 300);
  const caller = pcmToMulaw8k(parseWav(readFileSync(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav'))));
  const agent = pcmToMulaw8k(parseWav(readFileSync(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav')))).subarray(0, 16_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-recording-'));
  let t = 0;
  const clock = { now: () => t };
  const deps = {
    storage: new LocalRecordingStorage(dir),
    recordings: { add: async () => ({}) as never },
    events: { addEvent: async () => undefined },
    logger: pino({ level: 'silent' }),
    clock,
  };
  const writers = Array.from({ length: calls }, (_, i) => new RecordingWriter(`CAbench${i}`, deps));
  const frames = (seconds * 1_000) / 20;
  let tapNs = 0n;
  for (let f = 0; f < frames; f++) {
    t += 20;
    const off = (f * 160) % (caller.length - 160);
    const frame = caller.subarray(off, off + 160);
    const start = process.hrtime.bigint();
    for (const w of writers) {
      w.onInbound(frame);
      if (f % 500 === 0) w.onOutbound(agent);
      if (f % 1_500 === 1_000) w.onClear();
    }
    tapNs += process.hrtime.bigint() - start;
    if (f % 50 === 0) await new Promise((r) => setImmediate(r)); // let the writes run, as the event loop would
  }
  const closeStart = process.hrtime.bigint();
  await Promise.all(writers.map((w) => w.close('bench')));
  const closeMs = Number(process.hrtime.bigint() - closeStart) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  const perFrameNs = Number(tapNs) / (frames * calls);
  const out = {
    bench: 'recording-tap',
    at: new Date().toISOString(),
    node: process.version,
    calls,
    seconds,
    framesPerCall: frames,
    nsPerFrame: Math.round(perFrameNs),
    /** Share of one core the tap takes per live call (a call sends 50 frames/s). */
    corePercentPerCall: +((perFrameNs * 50) / 1e7).toFixed(4),
    closeMsAllCalls: Math.round(closeMs),
  };
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
