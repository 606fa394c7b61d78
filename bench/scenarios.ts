import os from 'node:os';
import type { Knex } from 'knex';
import type { LoadGenerator } from './loadgen-client';
import type { CallOutcome, LoadResult, LoadSpec } from './loadgen-protocol';
import type { MetricsSample, ServerProcess } from './server-process';
import { round } from './stats';

/** What every scenario needs: the server under test, the load generator and the bench database. */
export interface ScenarioContext {
  server: ServerProcess;
  loadgen: LoadGenerator;
  db: Knex;
  /** Signing and addressing of the simulated Twilio calls. */
  twilio: Pick<LoadSpec, 'publicBaseUrl' | 'authToken' | 'accountSid'>;
  recordings: number;
}

const baseSpec = (c: ScenarioContext): Omit<LoadSpec, 'calls' | 'turns' | 'sequential' | 'afterLastTurn'> => ({
  serverUrl: c.server.baseUrl,
  ...c.twilio,
  staggerMs: 0,
  settleMs: 300,
  greetingTimeoutMs: 15_000,
  replyTimeoutMs: 15_000,
});

/** `n` caller turns speaking the recordings in turn. */
const speakTurns = (n: number, recordings: number) => Array.from({ length: n }, (_, k) => ({ recording: k % recordings }));

/** The load generator's own event-loop delay and CPU over a run, as figure context. */
export function loadgenContext(r: LoadResult): Record<string, unknown> {
  return { loadgen_eventloop_lag_p99_ms: round(r.lag.p99Ms), loadgen_eventloop_lag_max_ms: round(r.lag.maxMs), loadgen_cpu_pct: round((100 * r.cpuMs) / r.wallMs) };
}

const failures = (calls: CallOutcome[]) => calls.filter((c) => c.error).map((c) => c.error!.slice(0, 200));

/**
 * Agent turns' `timings` jsonb (call_turns) for the given calls, once every call has been finished by the server
 * (post-call jobs enqueued, so all its rows are written); waits at most `timeoutMs`.
 */
export async function agentTimings(db: Knex, callSids: string[], timeoutMs = 20_000): Promise<Array<Record<string, number>>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [{ count }] = await db('calls').whereIn('call_sid', callSids).whereNull('post_call_enqueued_at').count({ count: '*' });
    if (Number(count) === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const rows = await db('call_turns').whereIn('call_sid', callSids).where({ role: 'agent' }).whereNotNull('timings').select('timings');
  return rows.map((r) => (typeof r.timings === 'string' ? JSON.parse(r.timings) : r.timings) as Record<string, number>);
}

const stat = (rows: Array<Record<string, number>>, key: string) => rows.map((r) => r[key]).filter((v): v is number => typeof v === 'number');

/**
 * Single calls, one after the other, each speaking `turnsPerCall` recordings after the agent went quiet. Returns the
 * caller-measured reply latencies (end of caller audio → first agent media frame) and the server's per-turn timings.
 * A one-turn warm-up call goes first and is not counted (a fresh process's first turn pays for JIT compilation and
 * first-use connections, which a server in service has long paid).
 */
export async function sequentialTurns(c: ScenarioContext, calls: number, turnsPerCall: number) {
  await c.loadgen.run({ ...baseSpec(c), calls: 1, sequential: true, turns: speakTurns(1, c.recordings), afterLastTurn: 'await_reply' });
  const result = await c.loadgen.run({ ...baseSpec(c), calls, sequential: true, turns: speakTurns(turnsPerCall, c.recordings), afterLastTurn: 'await_reply' });
  const sids = result.calls.map((x) => x.callSid).filter((s): s is string => !!s);
  const turns = result.calls.flatMap((x) => x.turns);
  const replies = turns.map((t) => t.replyLatencyMs).filter((v): v is number => v !== null);
  const timings = await agentTimings(c.db, sids);
  return {
    result,
    replies,
    missingReplies: turns.length - replies.length,
    failedCalls: failures(result.calls),
    timings,
    server: {
      turnOverheadMs: stat(timings, 'turnOverheadMs'),
      replyLatencyMs: stat(timings, 'replyLatencyMs'),
      endpointingMs: stat(timings, 'endpointingMs'),
      sttMs: stat(timings, 'sttMs'),
      llmFirstTokenMs: stat(timings, 'llmFirstTokenMs'),
      ttsFirstByteMs: stat(timings, 'ttsFirstByteMs'),
    },
  };
}

/**
 * Barge-ins, one call at a time: while the greeting plays (it has been arriving for `afterAgentAudioMs`), the
 * caller speaks the first `speechMs` of a recording (trimmed to its speech onset). Returns caller speech onset →
 * `clear` received, per call; calls where no clear came are counted in `missed`.
 */
export async function bargeIns(c: ScenarioContext, calls: number, o: { afterAgentAudioMs: number; speechMs: number }) {
  const result = await c.loadgen.run({
    ...baseSpec(c),
    calls,
    sequential: true,
    turns: [{ recording: 0, maxMs: o.speechMs, bargeInAfterMs: o.afterAgentAudioMs }],
    afterLastTurn: 'hang_up',
  });
  const latencies = result.calls.map((x) => x.turns[0]?.clearLatencyMs ?? null).filter((v): v is number => v !== null);
  return { result, latencies, missed: calls - latencies.length, failedCalls: failures(result.calls) };
}

/** One level of the concurrency ramp, measured over the window in which all calls are live. */
export interface LevelResult {
  calls: number;
  windowMs: number;
  /** prom-client `nodejs_eventloop_lag_{p99,max,mean}_seconds` over the window (ms; they include the 10 ms sampling interval). */
  lagP99Ms: number;
  lagMaxMs: number;
  lagMeanMs: number;
  activeCallsAtStart: number | null;
  replies: number[];
  missingReplies: number;
  failedCalls: string[];
  cpuMsPerCallSecond: number;
  rssMbPerCall: number;
  serverCpuPct: number;
  /** Machine load average (1 min) at the window's end: other processes compete for the same cores. */
  loadavg1m: number;
  /** Server-recorded timings of the level's agent turns (all turns, not only the window's): replyLatencyMs, turnOverheadMs, sttMs. */
  server: { replyLatencyMs: number[]; turnOverheadMs: number[]; sttMs: number[] };
  loadgen: LoadResult;
}

const metric = (s: MetricsSample, name: string): number => s.get(name) ?? NaN;

/**
 * `calls` simultaneous calls (started `staggerMs` apart), each speaking `turnsPerCall` recordings in real time and
 * waiting for the reply to each. The window runs from the moment every call has received agent audio (all live) to
 * the moment the first call ends; /metrics is scraped at both ends (the first scrape resets prom-client's event-loop
 * histogram, the second reads it), giving event-loop delay and CPU over the window. RSS per call is the growth from
 * the idle server (scraped before the load) to the window's end, divided by `calls`. Reply latencies count the
 * turns whose caller audio ended inside the window.
 */
export async function concurrencyLevel(c: ScenarioContext, calls: number, o: { turnsPerCall: number; staggerMs: number }): Promise<LevelResult> {
  const idle = await c.server.scrape();
  let start: { at: number; s: Promise<MetricsSample> } | null = null;
  let end: { at: number; s: Promise<MetricsSample> } | null = null;
  const loadgen = await c.loadgen.run(
    { ...baseSpec(c), calls, sequential: false, staggerMs: o.staggerMs, turns: speakTurns(o.turnsPerCall, c.recordings), afterLastTurn: 'await_reply' },
    (event, at) => {
      if (event === 'all_live' && !start && !end) start = { at, s: c.server.scrape() };
      else if (event === 'first_done' && !end) end = { at, s: c.server.scrape() };
    },
  );
  const w0 = start as { at: number; s: Promise<MetricsSample> } | null;
  const w1 = end as { at: number; s: Promise<MetricsSample> } | null;
  if (!w0 || !w1) throw new Error(`level ${calls}: no measurement window (a call ended before all were live)`);
  const [s0, s1] = await Promise.all([w0.s, w1.s]);
  const loadavg1m = os.loadavg()[0];
  const windowMs = w1.at - w0.at;
  const turns = loadgen.calls.flatMap((x) => x.turns);
  const inWindow = turns.filter((t) => t.endEpochMs >= w0.at && t.endEpochMs <= w1.at);
  const replies = inWindow.map((t) => t.replyLatencyMs).filter((v): v is number => v !== null);
  const cpuMs = (metric(s1, 'process_cpu_seconds_total') - metric(s0, 'process_cpu_seconds_total')) * 1000;
  const timings = await agentTimings(c.db, loadgen.calls.map((x) => x.callSid).filter((s): s is string => !!s));
  return {
    calls,
    windowMs,
    lagP99Ms: metric(s1, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMaxMs: metric(s1, 'nodejs_eventloop_lag_max_seconds') * 1000,
    lagMeanMs: metric(s1, 'nodejs_eventloop_lag_mean_seconds') * 1000,
    activeCallsAtStart: s0.has('callcenter_active_calls') ? metric(s0, 'callcenter_active_calls') : null,
    replies,
    missingReplies: turns.filter((t) => t.replyLatencyMs === null).length,
    failedCalls: failures(loadgen.calls),
    cpuMsPerCallSecond: cpuMs / (calls * (windowMs / 1000)),
    rssMbPerCall: (metric(s1, 'process_resident_memory_bytes') - metric(idle, 'process_resident_memory_bytes')) / calls / 2 ** 20,
    serverCpuPct: (100 * cpuMs) / windowMs,
    loadavg1m,
    server: { replyLatencyMs: stat(timings, 'replyLatencyMs'), turnOverheadMs: stat(timings, 'turnOverheadMs'), sttMs: stat(timings, 'sttMs') },
    loadgen,
  };
}
