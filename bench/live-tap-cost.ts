/**
 * CPU cost of the live-calls tap on the audio path (issue 12 §3: listen-in must cost nothing while nobody listens).
 * Run: `npx tsx bench/live-tap-cost.ts` (needs Redis at REDIS_URL, default redis://127.0.0.1:6379; uses its own key
 * prefix and removes its keys). Measures process CPU time (process.cpuUsage) of N caller frames (160 bytes) through
 * (a) a bare handler, (b) the same handler behind the session factory's tap fan-out (openTaps) with the live tap and
 * no listener, (c) the same with a listener's lease (each frame published to Redis), and prints ns per frame and
 * the share of one core at 250 concurrent calls (50 caller + 50 agent frames per second each).
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { openTaps } from '../src/call-taps';
import { startLiveCalls } from '../src/live-calls';

const N = Number(process.env.FRAMES ?? 2_000_000);
const N_LISTENING = Number(process.env.FRAMES_LISTENING ?? 50_000);
const FRAMES_PER_S_AT_250_CALLS = 250 * 100;

function cpuNsPerFrame(n: number, fn: (f: Uint8Array) => void): number {
  const frame = new Uint8Array(160).fill(0x7f);
  for (let i = 0; i < 10_000; i++) fn(frame); // warm-up (JIT)
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(frame);
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / n;
}

async function main(): Promise<void> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const subscriber = redis.duplicate();
  const prefix = `bench-live-${process.pid}`;
  const live = startLiveCalls({ redis, subscriber, prefix, logger: pino({ level: 'silent' }), session: () => undefined });
  await live.ready();
  let sink = 0;
  const handler = (m: Uint8Array) => {
    sink ^= m[0];
  };
  const call = { callSid: 'CAbench', streamSid: 'MZbench', agentId: 'support', direction: 'inbound', from: '+14155550100', to: '+18005550199' };
  const tap = openTaps([live.tap], call, (err) => console.error(err))!;

  const bare = cpuNsPerFrame(N, handler);
  const idle = cpuNsPerFrame(N, (m) => {
    tap.onInbound(m);
    handler(m);
  });
  await live.commands.send(live.instanceId, { type: 'listen', callSid: call.callSid, from: 'bench', ms: 600_000 });
  await new Promise((r) => setTimeout(r, 200)); // the lease arrives over Redis
  const listening = cpuNsPerFrame(N_LISTENING, (m) => {
    tap.onInbound(m);
    handler(m);
  });
  await redis.ping(); // publishes flushed
  await tap.close('bench');
  await live.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(keys);
  subscriber.disconnect();
  redis.disconnect();

  const share = (ns: number) => ((ns * FRAMES_PER_S_AT_250_CALLS) / 1e9) * 100;
  const row = (name: string, ns: number) => console.log(`${name.padEnd(34)} ${ns.toFixed(1).padStart(8)} ns/frame  ${share(ns).toFixed(3).padStart(7)} % of a core at 250 calls`);
  console.log(`frames: ${N} (listening: ${N_LISTENING}); sink ${sink}`);
  row('bare handler', bare);
  row('live tap, no listener', idle);
  row('live tap, no listener (extra)', Math.max(0, idle - bare));
  row('live tap, one listener', listening);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
