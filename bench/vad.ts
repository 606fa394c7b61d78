/**
 * Silero VAD cost benchmark. Run: `npx tsx bench/vad.ts [--streams 200] [--seconds 10] [--realtime-only]`.
 *
 * Prints one JSON object per line: `{ "name", "value", "unit", ... }`.
 * - `vad_cpu_ms_per_audio_second` (streams=1): one stream fed 20 ms frames back to back (each push awaited).
 * - `vad_cpu_ms_per_audio_second` (streams=N, mode=realtime): N streams, each fed one 20 ms frame every 20 ms of
 *   wall time, the streams' phases spread evenly over the 20 ms (as N independent Twilio Media Streams arrive).
 *   `value` is the process CPU (process.cpuUsage, user + system) per second of audio per stream, minus the cost of the
 *   same driver over a no-op VAD (`driver_ms_per_audio_second`, also printed).
 * - `vad_batch_latency_p95_ms` (same run): time from a frame's due time to its `push()` resolving, over the pushes
 *   that completed a VAD window (others resolve at once); p50/p99/max alongside.
 * - `event_loop_delay_p99_ms` (same run): perf_hooks.monitorEventLoopDelay over the run.
 * - `vad_main_thread` (same run): where the CPU went: `main_thread_cpu_ms_per_s` (the main thread's own CPU from
 *   /proc/thread-self/stat, Linux, 10 ms ticks), `main_elu` (performance.eventLoopUtilization of the main thread),
 *   `process_cpu_ms_per_s` (all threads, process.cpuUsage), and, when the VAD runs in a worker thread,
 *   `worker_cpu_ms_per_s` / `worker_elu` (the worker's own thread CPU and event-loop utilization). "per_s" = per
 *   wall second of the run, so 1000 = one core. `value` is main_thread_cpu_ms_per_s.
 * - `vad_cpu_ms_per_audio_second` (streams=N, mode=burst): N streams pushed in lockstep as fast as possible (the
 *   best case for batching).
 * Audio: the real LibriVox recordings (test/fixtures/audio, copies of /work/shared/audio) as a phone delivers them
 * (8 kHz mu-law round trip), concatenated and looped; each stream starts at a different offset.
 * CPU time is robust to other load on the machine; latencies and event-loop delay are not (run it on an idle box).
 */
import { readFileSync } from 'fs';
import { platform } from 'os';
import { join } from 'path';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'perf_hooks';
import { mulaw8kToPcm, pcmToMulaw8k } from '../src/audio/frames';
import { parseWav } from '../src/audio/wav';
import { FIXTURE_AUDIO_DIR } from '../src/eval/references';
import { SileroVad, type VadFrame, type VadStream } from '../src/engine/vad';

const FRAME = 160; // 20 ms at 8 kHz
const FRAME_MS = 20;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function loadAudio(): Int16Array {
  const parts = ['librivox-0870', 'librivox-0880', 'librivox-0890'].map(
    (n) => mulaw8kToPcm(pcmToMulaw8k(parseWav(readFileSync(join(FIXTURE_AUDIO_DIR, `${n}.wav`))))).samples,
  );
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0) - (parts.reduce((a, p) => a + p.length, 0) % FRAME));
  let off = 0;
  for (const p of parts) {
    const n = Math.min(p.length, out.length - off);
    out.set(p.subarray(0, n), off);
    off += n;
  }
  return out;
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
/** CPU time (ms) of the calling thread: utime + stime from /proc/thread-self/stat (Linux; 100 ticks/s). NaN elsewhere. */
function threadCpuMs(): number {
  if (platform() !== 'linux') return NaN;
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
  return (Number(f[11]) + Number(f[12])) * 10; // #14 utime, #15 stime, in 10 ms ticks
}
/** The VAD's worker-thread usage, when the VAD has one (the pre-worker code does not). */
type WorkerUsage = { cpuMs: number; elu: EventLoopUtilization };
const workerUsageOf = (vad: SileroVad): Promise<WorkerUsage | null> =>
  (vad as unknown as { workerUsage?: () => Promise<WorkerUsage | null> }).workerUsage?.() ?? Promise.resolve(null);
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

/** A stream's frame source: the looped audio from a per-stream offset. */
class Feed {
  private pos: number;
  constructor(private readonly audio: Int16Array, startFrame: number) {
    this.pos = (startFrame * FRAME) % audio.length;
  }
  next(): Int16Array {
    const f = this.audio.subarray(this.pos, this.pos + FRAME);
    this.pos = (this.pos + FRAME) % this.audio.length;
    return f;
  }
}

async function singleStream(vad: SileroVad, audio: Int16Array, seconds: number): Promise<void> {
  const s = vad.createStream();
  const feed = new Feed(audio, 0);
  for (let i = 0; i < 3000; i++) await s.push(feed.next()); // warm-up (JIT, background compilation): 60 s of audio
  const frames = (seconds * 1000) / FRAME_MS;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) await s.push(feed.next());
  const cpu = cpuMs(process.cpuUsage(c0));
  const wall = performance.now() - t0;
  s.close();
  emit({ name: 'vad_cpu_ms_per_audio_second', value: r3(cpu / seconds), unit: 'ms/s', streams: 1, mode: 'sequential', audio_s: seconds, wall_ms_per_audio_second: r3(wall / seconds) });
}

interface RealtimeResult {
  cpuMs: number;
  audioSeconds: number;
  windowLatencies: number[];
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  lateFrames: number;
  wallMs: number;
  mainThreadCpuMs: number;
  mainElu: number;
  worker: { cpuMs: number; elu: number } | null;
}

/** Feeds N streams in real time: one 20 ms frame per stream every 20 ms, phases spread over the 20 ms. */
async function realtime(streams: VadStream[], audio: Int16Array, seconds: number, vad?: SileroVad): Promise<RealtimeResult> {
  const n = streams.length;
  const groups = FRAME_MS; // one timer per 1 ms phase slot
  const feeds = streams.map((_, i) => new Feed(audio, Math.floor((i * audio.length) / FRAME / n)));
  const chains: Promise<unknown>[] = streams.map(() => Promise.resolve());
  const windowLatencies: number[] = [];
  let frames = 0;
  let lateFrames = 0;
  const ticksPerGroup = (seconds * 1000) / FRAME_MS;
  const h = monitorEventLoopDelay({ resolution: 1 });
  const w0 = vad ? await workerUsageOf(vad) : null;
  const c0 = process.cpuUsage();
  const tc0 = threadCpuMs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now() + 5;
  h.enable();
  await Promise.all(
    Array.from({ length: groups }, (_, g) =>
      new Promise<void>((done) => {
        let k = 0;
        const tick = () => {
          // Timers may fire up to ~1 ms early: a frame counts from when it was due or pushed, whichever is earlier.
          const due = Math.min(t0 + g + k * FRAME_MS, performance.now());
          for (let i = g; i < n; i += groups) {
            const frame = feeds[i].next();
            const s = streams[i];
            frames++;
            chains[i] = chains[i].then(() =>
              s.push(frame).then((out: VadFrame[]) => {
                if (out.length > 0) windowLatencies.push(performance.now() - due);
              }),
            );
          }
          if (performance.now() - due > FRAME_MS) lateFrames++;
          k++;
          if (k >= ticksPerGroup) return done();
          setTimeout(tick, Math.max(0, t0 + g + k * FRAME_MS - performance.now()));
        };
        setTimeout(tick, Math.max(0, t0 + g - performance.now()));
      }),
    ),
  );
  await Promise.all(chains);
  h.disable();
  const cpu = cpuMs(process.cpuUsage(c0));
  const mainThreadCpuMs = threadCpuMs() - tc0;
  const mainElu = performance.eventLoopUtilization(elu0).utilization;
  const wallMs = performance.now() - t0;
  const w1 = vad ? await workerUsageOf(vad) : null;
  const worker = w0 && w1 ? { cpuMs: w1.cpuMs - w0.cpuMs, elu: performance.eventLoopUtilization(w1.elu, w0.elu).utilization } : null;
  return { cpuMs: cpu, audioSeconds: (frames * FRAME_MS) / 1000, windowLatencies, loopDelayP99Ms: h.percentile(99) / 1e6, loopDelayMaxMs: h.max / 1e6, lateFrames, wallMs, mainThreadCpuMs, mainElu, worker };
}

/** A VadStream that does nothing: measures the driver's own cost. */
const nullStream = (): VadStream => ({ push: async () => [], flush: async () => [], reset: () => undefined, close: () => undefined });

async function burst(vad: SileroVad, audio: Int16Array, n: number, seconds: number): Promise<void> {
  const streams = Array.from({ length: n }, () => vad.createStream());
  const feeds = streams.map((_, i) => new Feed(audio, Math.floor((i * audio.length) / FRAME / n)));
  const frames = (seconds * 1000) / FRAME_MS;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < frames; k++) await Promise.all(streams.map((s, i) => s.push(feeds[i].next())));
  const cpu = cpuMs(process.cpuUsage(c0));
  const wall = performance.now() - t0;
  streams.forEach((s) => s.close());
  emit({ name: 'vad_cpu_ms_per_audio_second', value: r3(cpu / (n * seconds)), unit: 'ms/s', streams: n, mode: 'burst', audio_s_per_stream: seconds, wall_ms: Math.round(wall) });
}

async function main(): Promise<void> {
  const n = arg('streams', 200);
  const seconds = arg('seconds', 10);
  const audio = loadAudio();
  const vad = await SileroVad.load();

  const realtimeOnly = process.argv.includes('--realtime-only');
  if (!realtimeOnly) await singleStream(vad, audio, Math.max(seconds * 6, 60));

  const base = await realtime(Array.from({ length: n }, nullStream), audio, Math.min(seconds, 5));
  const driverPerAudioS = base.cpuMs / base.audioSeconds;
  const statsOf = () => (vad as unknown as { batchStats?: () => { runs: number; windows: number; maxBatchSize: number } }).batchStats?.();
  const stats0 = statsOf();
  const streams = Array.from({ length: n }, () => vad.createStream());
  const rt = await realtime(streams, audio, seconds, vad);
  const stats1 = statsOf();
  streams.forEach((s) => s.close());
  const perAudioS = rt.cpuMs / rt.audioSeconds;
  const common = { streams: n, mode: 'realtime', wall_s: seconds };
  emit({ name: 'vad_cpu_ms_per_audio_second', value: r3(perAudioS - driverPerAudioS), unit: 'ms/s', ...common, raw: r3(perAudioS), driver_ms_per_audio_second: r3(driverPerAudioS), cores_used: r3(rt.cpuMs / 1000 / seconds), late_frames: rt.lateFrames });
  const L = rt.windowLatencies;
  emit({ name: 'vad_batch_latency_p95_ms', value: r3(pct(L, 95)), unit: 'ms', ...common, p50: r3(pct(L, 50)), p99: r3(pct(L, 99)), max: r3(pct(L, 100)), samples: L.length });
  emit({ name: 'event_loop_delay_p99_ms', value: r3(rt.loopDelayP99Ms), unit: 'ms', ...common, max: r3(rt.loopDelayMaxMs), driver_only_p99: r3(base.loopDelayP99Ms) });
  const perS = (ms: number) => r3((ms * 1000) / rt.wallMs);
  emit({
    name: 'vad_main_thread',
    value: perS(rt.mainThreadCpuMs),
    unit: 'cpu ms/s',
    ...common,
    main_thread_cpu_ms_per_s: perS(rt.mainThreadCpuMs),
    main_elu: r3(rt.mainElu),
    process_cpu_ms_per_s: perS(rt.cpuMs),
    worker_cpu_ms_per_s: rt.worker ? perS(rt.worker.cpuMs) : null,
    worker_elu: rt.worker ? r3(rt.worker.elu) : null,
    driver_main_thread_cpu_ms_per_s: r3((base.mainThreadCpuMs * 1000) / base.wallMs),
    driver_main_elu: r3(base.mainElu),
  });
  if (stats0 && stats1) {
    const runs = stats1.runs - stats0.runs;
    const windows = stats1.windows - stats0.windows;
    emit({ name: 'vad_batch_size_mean', value: r3(windows / runs), unit: 'windows', ...common, model_calls: runs, windows, max_batch_size: stats1.maxBatchSize });
  }

  if (!realtimeOnly) await burst(vad, audio, n, Math.min(seconds, 5));
  (vad as unknown as { close?: () => Promise<void> }).close?.();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
