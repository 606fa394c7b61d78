import type { SimulatedCallerTurn } from '../src/cli/twilio-simulator';

/** What the load generator is asked to do: place `calls` simulated Twilio calls against a server. */
export interface LoadSpec {
  serverUrl: string;
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  calls: number;
  /** Calls start this far apart (ms), as callers do not all dial in the same millisecond. */
  staggerMs: number;
  /** true: one call after the other (single-call figures); false: all at once (staggered). */
  sequential: boolean;
  /**
   * The caller turns of every call: a recording index (into the `init` recordings), optionally cut to its first
   * `maxMs`, and `bargeInAfterMs` to speak over the agent (see CallerTurn). Call i rotates the recordings by i so
   * that concurrent callers do not speak in lockstep.
   */
  turns: Array<{ recording: number; maxMs?: number; bargeInAfterMs?: number }>;
  afterLastTurn: 'await_reply' | 'hang_up';
  /** Quiet time after the agent's last reply that ends the call (ms). */
  settleMs: number;
  greetingTimeoutMs: number;
  replyTimeoutMs: number;
}

/** A caller turn with its end on the epoch clock (ms, `performance.timeOrigin + performance.now()`). */
export interface TurnOutcome extends SimulatedCallerTurn {
  recording: number;
  endEpochMs: number;
}

export interface CallOutcome {
  callSid: string | null;
  turns: TurnOutcome[];
  /** First agent audio of the call (the greeting), epoch ms; null if none arrived. */
  firstAgentAudioEpochMs: number | null;
  /** When the call's stream was closed (epoch ms). */
  doneEpochMs: number;
  clears: number;
  wavHeaders: number;
  error?: string;
}

/** Event-loop delay of the load generator over a run, from perf_hooks.monitorEventLoopDelay (10 ms resolution). */
export interface LoadgenLag {
  /** Raw monitor percentiles (ms); they include the 10 ms sampling interval. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  calls: CallOutcome[];
  lag: LoadgenLag;
  /** Load generator CPU (user + system) over the run (ms) and the run's wall time (ms). */
  cpuMs: number;
  wallMs: number;
}

export type ToLoadgen = { type: 'init'; recordings: Uint8Array[] } | { type: 'run'; id: number; spec: LoadSpec } | { type: 'exit' };

export type LoadgenEvent =
  /** Every call has received agent audio (or failed): all calls are live. */
  | 'all_live'
  /** The first call has finished. */
  | 'first_done';

export type FromLoadgen =
  | { type: 'ready' }
  | { type: 'event'; id: number; event: LoadgenEvent; atEpochMs: number }
  | { type: 'result'; id: number; result: LoadResult }
  | { type: 'error'; id: number; message: string };

/** Now on the epoch clock with sub-ms resolution (comparable across processes on one machine). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
