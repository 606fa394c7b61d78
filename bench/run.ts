import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { createDb } from '../src/db/knex';
import { ensureDatabase, migrateAndSeed } from '../src/db/setup';
import { createRedisConnection } from '../src/jobs/queues';
import { parseArgs } from '../src/cli/args';
import { loadCallerRecordings } from './audio';
import { mulaw8kToPcm } from '../src/audio/frames';
import { MoonshineStt } from '../src/providers/stt/moonshine';
import { startLoadGenerator } from './loadgen-client';
import { startServerProcess } from './server-process';
import { bargeIns, concurrencyLevel, loadgenContext, sequentialTurns, type ScenarioContext } from './scenarios';
import { emit, percentile, progress, round, summarize } from './stats';
import { campaignFigures } from './campaign-figures';
import { webhookFigures } from './webhooks';

/**
 * `npm run bench [-- --quick] [-- --levels 25,50,100] [-- --level-turns 3] [-- --no-campaigns | --campaigns-only]
 * [-- --import-rows N] [-- --no-webhooks] [-- --recording-level N] [-- --recording-reps N]`: the platform's own speed, measured end to end (`--level-turns`: caller turns per call at each
 * concurrency level, i.e. a longer measurement window). The outbound-campaign figures (bench/campaign-figures.ts:
 * `csv_import_rows_per_s`, `csv_import_peak_rss_mb` for `--import-rows` contacts, default 100,000;
 * `dial_pacing_error_ms_p95`, `dispatcher_decisions_per_s`) run last; `--no-campaigns` skips them, `--campaigns-only`
 * runs only them.
 *
 * A real server process (src/main.ts with STT_PROVIDER/LLM_PROVIDER/TTS_PROVIDER=fake, real Silero VAD on every call,
 * Postgres `callcenter_bench`, Redis) and a load generator in its own process speaking the Twilio Media Streams
 * protocol (src/cli/twilio-simulator.ts) with real recordings (LibriVox, 8 kHz mu-law, trimmed to their speech).
 * Prints one JSON object per line on stdout (`{ name, value, unit, ...context }`); progress goes to stderr.
 *
 * 1. Zero-latency fakes: `turn_overhead_ms_p95` (server-recorded `timings.turnOverheadMs`: end-of-turn decision →
 *    first outbound media frame) and `barge_in_ms_p95` (caller speech onset → `clear` received by the caller).
 * 2. Fakes at 150/300/75 ms (STT / LLM first token / TTS first byte): `reply_latency_ms_p50` / `_p95` for one call
 *    (end of caller speech → first agent media frame, measured by the caller).
 * 3. The same fakes, a fresh server per level: N simultaneous calls; a level passes when the server's event-loop
 *    delay p99 (prom-client's p99 minus its 10 ms sampling interval, over the window where all calls are live) ≤ 20 ms,
 *    reply latency p95 ≤ single-call p95 + 50 ms, and no call failed. `concurrent_calls` = highest passing N;
 *    `cpu_ms_per_call_second` and `rss_mb_per_call` at that level.
 * 3b. Recording cost: the same level (`--recording-level`, default the highest passing level capped at 100) with
 *    RECORDINGS_ENABLED=true and =false, alternating, `--recording-reps` pairs (default 2; 1 with --quick):
 *    `recording_cpu_ms_per_call_second_delta` (mean with − mean without), with each run's event-loop delay p99 and reply
 *    latency p95.
 * Last, unless `--no-webhooks`, bench/webhooks.ts's figures: `webhook_delay_ms_p95`, `webhook_deliveries_per_s` and
 * `webhook_call_completed_delay_ms_p95` (call end → verified `call.completed` through the post-call chain, 500 calls/min).
 */

const FAKE_TRANSCRIPT = 'What are your opening hours on Saturday?';
const LAG_P99_LIMIT_MS = 20;
/**
 * prom-client samples the event loop with perf_hooks.monitorEventLoopDelay at a 10 ms resolution
 * (`eventLoopMonitoringPrecision` in src/metrics/metrics.ts), whose samples are the time between two timer runs: an
 * idle loop reads ≈ 10 ms. The delay is that minus the interval (as @fastify/under-pressure and Elastic's monitor
 * compute it).
 */
const LAG_SAMPLING_MS = 10;
const REPLY_P95_MARGIN_MS = 50;

interface Plan {
  overhead: { calls: number; turns: number };
  bargeIns: number;
  reply: { calls: number; turns: number };
  levels: number[];
  levelTurns: number;
  /** Concurrency levels with the offline STT (Moonshine) in the loop; [] skips the offline-STT stage. */
  localSttLevels: number[];
}

const FULL: Plan = { overhead: { calls: 2, turns: 5 }, bargeIns: 15, reply: { calls: 3, turns: 5 }, levels: [25, 50, 100, 150, 200, 250, 300], levelTurns: 2, localSttLevels: [2, 4, 8, 12, 16, 24] };
const QUICK: Plan = { overhead: { calls: 1, turns: 3 }, bargeIns: 4, reply: { calls: 1, turns: 3 }, levels: [10, 25], levelTurns: 1, localSttLevels: [2] };

const FAKES_ZERO = { FAKE_STT_MS: '0', FAKE_LLM_FIRST_TOKEN_MS: '0', FAKE_TTS_FIRST_BYTE_MS: '0', FAKE_LLM_PER_TOKEN_MS: '0' };
const FAKES_REAL = { FAKE_STT_MS: '150', FAKE_LLM_FIRST_TOKEN_MS: '300', FAKE_TTS_FIRST_BYTE_MS: '75', FAKE_LLM_PER_TOKEN_MS: '0' };
/** STT + LLM first token + TTS first byte of FAKES_REAL: the part of turnOverheadMs that is simulated vendor time. */
const FAKES_SUM_MS = +FAKES_REAL.FAKE_STT_MS + +FAKES_REAL.FAKE_LLM_FIRST_TOKEN_MS + +FAKES_REAL.FAKE_TTS_FIRST_BYTE_MS;
const fakesContext = (f: typeof FAKES_ZERO) => ({ stt_ms: +f.FAKE_STT_MS, llm_first_token_ms: +f.FAKE_LLM_FIRST_TOKEN_MS, tts_first_byte_ms: +f.FAKE_TTS_FIRST_BYTE_MS });

const cleanups: Array<() => Promise<void>> = [];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    quick: 'boolean',
    levels: 'string',
    'level-turns': 'string',
    'local-stt-levels': 'string',
    'no-campaigns': 'boolean',
    'no-webhooks': 'boolean',
    'campaigns-only': 'boolean',
    'import-rows': 'string',
    'recording-level': 'string',
    'recording-reps': 'string',
  });
  const campaigns = async () => {
    const c = loadConfig();
    const rows = typeof args['import-rows'] === 'string' ? Math.max(1, Number(args['import-rows']) || 100_000) : 100_000;
    await campaignFigures({ adminDatabaseUrl: withDatabase(c.databaseUrl, 'postgres'), redisUrl: c.redisUrl, rows });
  };
  if (args['campaigns-only']) return campaigns();
  const plan: Plan = { ...(args.quick ? QUICK : FULL) };
  const list = (v: string) => v.split(',').map((x) => Number(x.trim())).filter((n) => Number.isInteger(n) && n > 0);
  if (typeof args['local-stt-levels'] === 'string') plan.localSttLevels = args['local-stt-levels'] === 'none' ? [] : list(args['local-stt-levels']);
  if (typeof args['level-turns'] === 'string') plan.levelTurns = Math.max(1, Number(args['level-turns']) || 1);
  if (typeof args.levels === 'string') plan.levels = args.levels.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  const t0 = Date.now();
  const machine = { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model?.trim(), mem_gb: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadavg_1m_at_start: round(os.loadavg()[0], 2) };

  // Database and queue: a bench database (created, migrated, seeded) and a Redis key prefix of our own.
  const parent = loadConfig();
  const databaseUrl = withDatabase(parent.databaseUrl, 'callcenter_bench');
  const queuePrefix = `bench-${process.pid}-${Date.now().toString(36)}`;
  progress(`database ${new URL(databaseUrl).pathname.slice(1)}: create + migrate + seed`);
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, { min: 0, max: 4 });
  cleanups.push(() => db.destroy());
  await migrateAndSeed(db);
  cleanups.push(() => dropQueue(parent.redisUrl, queuePrefix));

  // The servers' call recordings go to a directory of our own, removed at the end.
  const recordingsDir = mkdtempSync(path.join(os.tmpdir(), 'bench-recordings-'));
  cleanups.push(async () => rmSync(recordingsDir, { recursive: true, force: true }));
  const baseEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    RECORDINGS_DIR: recordingsDir,
    STT_PROVIDER: 'fake',
    TTS_PROVIDER: 'fake',
    LLM_PROVIDER: 'fake',
    EMBEDDINGS_PROVIDER: 'local',
    VECTOR_PROVIDER: 'postgres',
    METRICS_ENABLED: 'true',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const serverConfig = (fakes: typeof FAKES_ZERO): Readonly<Config> => loadConfig({ ...process.env, ...baseEnv, ...fakes });
  const cfg = serverConfig(FAKES_ZERO);
  const twilio = { publicBaseUrl: cfg.publicBaseUrl, authToken: cfg.twilio.authToken, accountSid: cfg.twilio.accountSid };

  progress('caller audio: LibriVox recordings → 8 kHz mu-law, trimmed to Silero speech bounds');
  const recs = await loadCallerRecordings();
  const audio = { recordings: recs.map((r) => `${r.file} (${Math.round(r.ms)} ms speech)`), trimmed_to_speech: true };
  const loadgen = await startLoadGenerator(recs.map((r) => r.mulaw));
  cleanups.push(() => loadgen.close());
  const withServer = async <T>(fakes: Record<string, string>, fn: (c: ScenarioContext) => Promise<T>): Promise<T> => {
    const server = await startServerProcess({ env: { ...baseEnv, ...fakes }, metricsToken: cfg.auth.metricsToken ?? '', queuePrefix, fakeTranscript: FAKE_TRANSCRIPT });
    const stop = () => server.stop();
    cleanups.push(stop);
    try {
      return await fn({ server, loadgen, db, twilio, recordings: recs.length });
    } finally {
      cleanups.splice(cleanups.indexOf(stop), 1);
      await server.stop();
    }
  };
  const common = { machine, audio, endpointing_silence_ms: cfg.engine.endpointingSilenceMs };

  // 1. Zero-latency fakes: turn overhead and barge-in.
  await withServer(FAKES_ZERO, async (c) => {
    progress(`turn overhead: ${plan.overhead.calls} call(s) × ${plan.overhead.turns} turns, zero-latency fakes`);
    const r = await sequentialTurns(c, plan.overhead.calls, plan.overhead.turns);
    const o = summarize(r.server.turnOverheadMs);
    emit({
      name: 'turn_overhead_ms_p95',
      value: o.n ? round(o.p95) : null,
      unit: 'ms',
      target: 15,
      n: o.n,
      p50: round(o.p50),
      max: round(o.max),
      ...(o.n ? {} : { note: 'the server recorded no timings.turnOverheadMs on agent turns (engine does not produce it yet)' }),
      server_reply_latency_ms_p50: round(percentile(r.server.replyLatencyMs, 50)),
      server_endpointing_ms_p50: round(percentile(r.server.endpointingMs, 50)),
      caller_reply_latency_ms_p50: round(percentile(r.replies, 50)),
      agent_turns_with_timings: r.timings.length,
      warmup_calls: 1,
      missing_replies: r.missingReplies,
      failed_calls: r.failedCalls,
      fakes: fakesContext(FAKES_ZERO),
      ...loadgenContext(r.result),
      ...common,
    });

    const speechMs = 1500;
    const afterAgentAudioMs = 1000;
    progress(`barge-in: ${plan.bargeIns} call(s), caller speaks ${speechMs} ms over the greeting after ${afterAgentAudioMs} ms`);
    const b = await bargeIns(c, plan.bargeIns, { afterAgentAudioMs, speechMs });
    const s = summarize(b.latencies);
    const minSpeech = cfg.engine.bargeInMinSpeechMs;
    emit({
      name: 'barge_in_ms_p95',
      value: s.n ? round(s.p95) : null,
      unit: 'ms',
      target: 150,
      n: s.n,
      p50: round(s.p50),
      max: round(s.max),
      missed: b.missed,
      failed_calls: b.failedCalls,
      measured: 'caller speech onset (first frame of a speech-trimmed recording, sent while the greeting plays) → clear received by the caller',
      barge_in_min_speech_ms: minSpeech,
      fakes: fakesContext(FAKES_ZERO),
      ...loadgenContext(b.result),
      ...common,
    });
  });

  // 2. One call with realistic fake latencies: the reply-latency baseline.
  const target = cfg.engine.endpointingSilenceMs + 550;
  const baseline = await withServer(FAKES_REAL, async (c) => {
    progress(`reply latency: ${plan.reply.calls} call(s) × ${plan.reply.turns} turns, fakes 150/300/75 ms`);
    const r = await sequentialTurns(c, plan.reply.calls, plan.reply.turns);
    const s = summarize(r.replies);
    const ctx = {
      n: s.n,
      target,
      warmup_calls: 1,
      missing_replies: r.missingReplies,
      failed_calls: r.failedCalls,
      server_reply_latency_ms_p50: round(percentile(r.server.replyLatencyMs, 50)),
      server_endpointing_ms_p50: round(percentile(r.server.endpointingMs, 50)),
      server_stt_ms_p50: round(percentile(r.server.sttMs, 50)),
      server_llm_first_token_ms_p50: round(percentile(r.server.llmFirstTokenMs, 50)),
      server_tts_first_byte_ms_p50: round(percentile(r.server.ttsFirstByteMs, 50)),
      server_turn_overhead_ms_p50: round(percentile(r.server.turnOverheadMs, 50)),
      measured: 'end of caller speech (last frame of a speech-trimmed recording) → first agent media frame received by the caller',
      fakes: fakesContext(FAKES_REAL),
      ...loadgenContext(r.result),
      ...common,
    };
    emit({ name: 'reply_latency_ms_p50', value: round(s.p50), unit: 'ms', ...ctx });
    emit({ name: 'reply_latency_ms_p95', value: round(s.p95), unit: 'ms', max: round(s.max), ...ctx });
    return s;
  });

  /**
   * A concurrency ramp, a fresh server per level (`env` on top of the bench's): a level passes when the event-loop
   * delay p99, the reply p95 against `baselineP95` + margin, failed calls and missing replies all hold; it stops at
   * the first failing level. Emits one `<name>` line per level. @returns the highest passing level's figures.
   */
  const ramp = async (name: string, levels: number[], env: Record<string, string>, baselineP95: number): Promise<{ calls: number; cpu: number; rss: number } | null> => {
    let best: { calls: number; cpu: number; rss: number } | null = null;
    for (const n of levels) {
      const staggerMs = Math.max(5, Math.min(50, Math.floor(3000 / n)));
      progress(`${name}: ${n} simultaneous calls (started ${staggerMs} ms apart), ${plan.levelTurns} turn(s) each`);
      let level;
      try {
        level = await withServer(env, (c) => concurrencyLevel(c, n, { turnsPerCall: plan.levelTurns, staggerMs }));
      } catch (err) {
        emit({ name, value: n, unit: 'calls', pass: false, error: err instanceof Error ? err.message : String(err) });
        break;
      }
      const r = summarize(level.replies);
      const reasons: string[] = [];
      const delayP99 = level.lagP99Ms - LAG_SAMPLING_MS;
      if (!(delayP99 <= LAG_P99_LIMIT_MS)) reasons.push(`event-loop delay p99 ${round(delayP99)} ms > ${LAG_P99_LIMIT_MS}`);
      if (!(r.p95 <= baselineP95 + REPLY_P95_MARGIN_MS)) reasons.push(`reply p95 ${round(r.p95)} ms > ${round(baselineP95)} + ${REPLY_P95_MARGIN_MS}`);
      if (level.failedCalls.length) reasons.push(`${level.failedCalls.length} call(s) failed`);
      if (level.missingReplies) reasons.push(`${level.missingReplies} turn(s) got no reply`);
      const pass = reasons.length === 0;
      emit({
        name,
        value: n,
        unit: 'calls',
        pass,
        ...(pass ? {} : { failed_because: reasons }),
        window_s: round(level.windowMs / 1000),
        active_calls_at_window_start: level.activeCallsAtStart,
        eventloop_delay_p99_ms: round(delayP99),
        eventloop_delay_max_ms: round(level.lagMaxMs - LAG_SAMPLING_MS),
        eventloop_delay_mean_ms: round(level.lagMeanMs - LAG_SAMPLING_MS),
        prom_eventloop_lag_p99_ms: round(level.lagP99Ms),
        reply_latency_ms_p50: round(r.p50),
        reply_latency_ms_p95: round(r.p95),
        reply_latency_ms_max: round(r.max),
        reply_latency_n: r.n,
        single_call_reply_latency_ms_p95: round(baselineP95),
        server_reply_latency_ms_p95: round(percentile(level.server.replyLatencyMs, 95)),
        server_turn_overhead_ms_p95: round(percentile(level.server.turnOverheadMs, 95)),
        server_stt_ms_p95: round(percentile(level.server.sttMs, 95)),
        fake_latency_sum_ms: FAKES_SUM_MS,
        server_cpu_pct: round(level.serverCpuPct),
        cpu_ms_per_call_second: round(level.cpuMsPerCallSecond, 2),
        rss_mb_per_call: round(level.rssMbPerCall, 2),
        missing_replies: level.missingReplies,
        failed_calls: level.failedCalls.slice(0, 3),
        loadavg_1m: round(level.loadavg1m, 2),
        ...loadgenContext(level.loadgen),
        fakes: fakesContext(FAKES_REAL),
        ...(env.STT_PROVIDER ? { stt: env.STT_PROVIDER } : {}),
      });
      if (!pass) break;
      best = { calls: n, cpu: level.cpuMsPerCallSecond, rss: level.rssMbPerCall };
    }
    return best;
  };

  // 3. Concurrency ramp with the fake providers: the platform's own cost per call.
  const best = await ramp('concurrent_calls_level', plan.levels, FAKES_REAL, baseline.p95);
  const rampCtx = { levels: plan.levels, criteria: `server event-loop delay p99 (prom-client nodejs_eventloop_lag_p99_seconds minus its ${LAG_SAMPLING_MS} ms sampling interval) <= ${LAG_P99_LIMIT_MS} ms, reply latency p95 <= single-call p95 + ${REPLY_P95_MARGIN_MS} ms, no failed call or missing reply`, target: 200, ...common };
  emit({ name: 'concurrent_calls', value: best?.calls ?? 0, unit: 'calls', ...rampCtx });
  emit({ name: 'cpu_ms_per_call_second', value: best ? round(best.cpu, 2) : null, unit: 'ms', at_calls: best?.calls ?? null, measured: 'server process CPU (process_cpu_seconds_total) per second of live call, over the window with all calls live', machine });
  emit({ name: 'rss_mb_per_call', value: best ? round(best.rss, 2) : null, unit: 'MB', at_calls: best?.calls ?? null, measured: 'server RSS growth (process_resident_memory_bytes) from idle to the window end, per live call', machine });

  // 3b. Recording cost: the same level with and without recording, alternating (one after the other on one machine).
  const recLevel = typeof args['recording-level'] === 'string' ? Number(args['recording-level']) : best ? Math.min(best.calls, 100) : 0;
  if (recLevel > 0) {
    const reps = typeof args['recording-reps'] === 'string' ? Math.max(1, Number(args['recording-reps']) || 1) : args.quick ? 1 : 2;
    const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const lag: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const replyP95: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const staggerMs = Math.max(5, Math.min(50, Math.floor(3000 / recLevel)));
    for (let i = 0; i < reps; i++) {
      for (const mode of i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        progress(`recording cost: ${recLevel} calls, recording ${mode} (pair ${i + 1}/${reps})`);
        const env = { ...FAKES_REAL, RECORDINGS_ENABLED: mode === 'on' ? 'true' : 'false' };
        const level = await withServer(env, (c) => concurrencyLevel(c, recLevel, { turnsPerCall: plan.levelTurns, staggerMs }));
        cpu[mode].push(level.cpuMsPerCallSecond);
        lag[mode].push(level.lagP99Ms - LAG_SAMPLING_MS);
        replyP95[mode].push(summarize(level.replies).p95);
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    emit({
      name: 'recording_cpu_ms_per_call_second_delta',
      value: round(mean(cpu.on) - mean(cpu.off), 2),
      unit: 'ms',
      calls: recLevel,
      pairs: reps,
      cpu_ms_per_call_second_recording_on: cpu.on.map((v) => round(v, 2)),
      cpu_ms_per_call_second_recording_off: cpu.off.map((v) => round(v, 2)),
      ratio_on_over_off: round(mean(cpu.on) / mean(cpu.off), 3),
      eventloop_delay_p99_ms_on: lag.on.map((v) => round(v)),
      eventloop_delay_p99_ms_off: lag.off.map((v) => round(v)),
      reply_latency_ms_p95_on: replyP95.on.map((v) => round(v)),
      reply_latency_ms_p95_off: replyP95.off.map((v) => round(v)),
      measured: 'server process CPU per second of live call with RECORDINGS_ENABLED=true minus =false (means of the runs), same level, alternating runs',
      ...common,
    });
  }

  // 4. The offline STT (Moonshine) in the loop: its real-time factor, and how many calls one server sustains with it.
  if (plan.localSttLevels.length) {
    for (const size of ['base', 'tiny'] as const) {
      progress(`stt_rtf: Moonshine ${size}, one decode at a time, the caller recordings`);
      const r = await measureSttRtf(size, recs.map((x) => x.mulaw));
      emit({ name: 'stt_rtf', value: round(r.rtf, 3), unit: 'ratio', model: `moonshine-${size}`, decode_ms_p50: round(r.p50), audio_ms: round(r.audioMs), rounds: r.rounds, measured: 'decode time / audio duration (8 kHz mu-law → 16 kHz, one worker thread, after warm-up)', machine });
    }
    const LOCAL = { ...FAKES_REAL, STT_PROVIDER: 'local' };
    const single = await withServer(LOCAL, async (c) => {
      progress(`reply latency with the offline STT: 1 call × ${plan.reply.turns} turns`);
      return summarize((await sequentialTurns(c, 1, plan.reply.turns)).replies);
    });
    emit({ name: 'reply_latency_local_stt_ms_p95', value: round(single.p95), unit: 'ms', p50: round(single.p50), n: single.n, stt: 'moonshine-base', ...common });
    const bestLocal = await ramp('concurrent_calls_local_stt_level', plan.localSttLevels, LOCAL, single.p95);
    emit({ name: 'concurrent_calls_local_stt', value: bestLocal?.calls ?? 0, unit: 'calls', levels: plan.localSttLevels, stt: `moonshine-base × ${cfg.local.sttConcurrency} workers`, criteria: rampCtx.criteria, ...common });
  }
  if (!args['no-campaigns']) await campaigns();
  if (!args['no-webhooks']) {
    // 5. Webhooks (issue 13): outbox → receipt delay and burst deliveries/s, and call end → call.completed at 500 calls/min.
    progress('webhooks: 500 calls/min for 60 s (20 s with --quick) through the post-call chain, then a 2000-event burst');
    const c = loadConfig();
    await webhookFigures({ adminDatabaseUrl: withDatabase(c.databaseUrl, 'postgres'), redisUrl: c.redisUrl, seconds: args.quick ? 20 : 60 });
  }
  progress(`done in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** Moonshine's real-time factor on `recordings` (8 kHz mu-law): 3 rounds after a warm-up decode. */
async function measureSttRtf(size: 'base' | 'tiny', recordings: Uint8Array[]): Promise<{ rtf: number; p50: number; audioMs: number; rounds: number }> {
  const stt = new MoonshineStt({ size, concurrency: 1 });
  try {
    await stt.warmup();
    const pcm = recordings.map((m) => mulaw8kToPcm(m));
    const signal = new AbortController().signal;
    await stt.transcribe(pcm[0], { signal });
    const times: number[] = [];
    let decodeMs = 0;
    let audioMs = 0;
    const rounds = 3;
    for (let i = 0; i < rounds; i++) {
      for (const p of pcm) {
        const t = performance.now();
        await stt.transcribe(p, { signal });
        const ms = performance.now() - t;
        times.push(ms);
        decodeMs += ms;
        audioMs += (p.samples.length * 1000) / p.sampleRate;
      }
    }
    return { rtf: decodeMs / audioMs, p50: percentile(times, 50), audioMs: audioMs / rounds, rounds };
  } finally {
    await stt.close();
  }
}

/** `databaseUrl` with its database name replaced. */
function withDatabase(databaseUrl: string, name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Removes the benchmark's BullMQ keys (`<prefix>:*`: post-call jobs no worker runs, queue metadata) from Redis.
 * The prefix is unique to this run, so nothing else is touched.
 */
async function dropQueue(redisUrl: string, prefix: string): Promise<void> {
  const redis = createRedisConnection(redisUrl, 'worker');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((err) => progress(`cleanup: ${err instanceof Error ? err.message : err}`));
}

process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
main()
  .catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
