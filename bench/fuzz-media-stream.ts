/**
 * Longer fuzz run of the Media Streams server (see test/integration/telephony/media-stream-fuzz.ts for the property).
 * Usage: npx tsx bench/fuzz-media-stream.ts [--runs N] [--seed S] [--max-frames F] [--no-huge] [--max-gap-ms G]
 * Prints one JSON line (the report) and exits 0, or prints {"ok":false,"error":…} and exits 1.
 *
 * `--parse-cpu N` instead measures the codec: process CPU time to parse N realistic inbound `media` frames (20 ms,
 * 160 mu-law bytes) with parseInbound (hand-checked media fast path) against parseInboundStrict (zod for every
 * frame, as before the fast path), interleaved in blocks in one process so that machine load hits both alike.
 */
import { runMediaStreamFuzz } from '../test/integration/telephony/media-stream-fuzz';
import { parseInbound, parseInboundStrict } from '../src/telephony/protocol';

function parseCpu(n: number): Record<string, unknown> {
  const payload = Buffer.alloc(160);
  const frames: string[] = [];
  for (let i = 0; i < 1000; i++) {
    for (let j = 0; j < 160; j++) payload[j] = (i * 31 + j * 7) & 0xff;
    frames.push(JSON.stringify({ event: 'media', sequenceNumber: String(i + 2), streamSid: 'MZ0123456789abcdef0123456789abcdef', media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: payload.toString('base64') } }));
  }
  let sink = 0;
  const run = (parse: typeof parseInbound, count: number) => {
    const t = process.cpuUsage();
    for (let i = 0; i < count; i++) sink += (parse(frames[i % 1000]) as { chunk: number }).chunk;
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1000;
  };
  run(parseInboundStrict, 20_000);
  run(parseInbound, 20_000);
  let zod = 0;
  let fast = 0;
  for (let b = 0; b < 10; b++) {
    zod += run(parseInboundStrict, n / 10);
    fast += run(parseInbound, n / 10);
  }
  return { frames: n, zodCpuMs: Math.round(zod), fastPathCpuMs: Math.round(fast), ratio: +(fast / zod).toFixed(2), usPerFrameZod: +((zod * 1000) / n).toFixed(2), usPerFrameFast: +((fast * 1000) / n).toFixed(2), checksum: sink > 0 };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  if (process.argv.includes('--parse-cpu')) {
    console.log(JSON.stringify(parseCpu(arg('--parse-cpu', 200_000))));
    return;
  }
  const o = {
    runs: arg('--runs', 2000),
    seed: arg('--seed', Date.now() % 1_000_000_007),
    maxFrames: arg('--max-frames', 20),
    huge: !process.argv.includes('--no-huge'),
    maxGapMs: arg('--max-gap-ms', 250),
  };
  try {
    const report = await runMediaStreamFuzz(o);
    console.log(JSON.stringify({ ok: true, ...report }));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, seed: o.seed, runs: o.runs, error: String(err instanceof Error ? err.message : err).slice(0, 2000) }));
    process.exitCode = 1;
  }
}

void main();
