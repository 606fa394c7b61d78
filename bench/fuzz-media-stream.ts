/**
 * Longer fuzz run of the Media Streams server (see test/integration/telephony/media-stream-fuzz.ts for the property).
 * Usage: npx tsx bench/fuzz-media-stream.ts [--runs N] [--seed S] [--max-frames F] [--no-huge] [--max-gap-ms G]
 * Prints one JSON line (the report) and exits 0, or prints {"ok":false,"error":…} and exits 1.
 */
import { runMediaStreamFuzz } from '../test/integration/telephony/media-stream-fuzz';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
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
