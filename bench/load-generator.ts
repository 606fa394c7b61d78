import { monitorEventLoopDelay } from 'node:perf_hooks';
import { simulateCall, type CallerTurn } from '../src/cli/twilio-simulator';
import { epochNow, type CallOutcome, type FromLoadgen, type LoadResult, type LoadSpec, type ToLoadgen } from './loadgen-protocol';

/**
 * The load generator: its own Node process (forked by loadgen-client.ts, IPC channel), so that placing hundreds of
 * simulated calls does not share an event loop with the orchestrator or the server. Each call is
 * src/cli/twilio-simulator.ts `simulateCall` speaking the Twilio Media Streams protocol: signed voice webhook,
 * signed WebSocket upgrade, 20 ms mu-law frames in real time, marks echoed when played, `clear` honoured, signed
 * status callback. Messages: see loadgen-protocol.ts.
 */

let recordings: Uint8Array[] = [];
const send = (m: FromLoadgen) => process.send?.(m);

process.on('message', (m: ToLoadgen) => {
  if (m.type === 'init') {
    recordings = m.recordings.map((r) => new Uint8Array(r));
    send({ type: 'ready' });
  } else if (m.type === 'run') {
    run(m.id, m.spec).then(
      (result) => send({ type: 'result', id: m.id, result }),
      (err) => send({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err) }),
    );
  } else if (m.type === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

async function run(id: number, spec: LoadSpec): Promise<LoadResult> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let live = 0;
  let firstDone = false;
  const noteLive = () => {
    if (++live === spec.calls) send({ type: 'event', id, event: 'all_live', atEpochMs: epochNow() });
  };
  const one = async (i: number): Promise<CallOutcome> => {
    const order = spec.turns.map((t, k) => ({ ...t, recording: (t.recording + i) % recordings.length, k }));
    const callerTurns: CallerTurn[] = order.map((t) => ({
      audio: t.maxMs ? recordings[t.recording].subarray(0, Math.round(t.maxMs * 8)) : recordings[t.recording],
      bargeInAfterMs: t.bargeInAfterMs,
    }));
    const turnEnds: number[] = [];
    let firstAgentAudioEpochMs: number | null = null;
    try {
      const sim = await simulateCall({
        serverUrl: spec.serverUrl,
        publicBaseUrl: spec.publicBaseUrl,
        authToken: spec.authToken,
        accountSid: spec.accountSid,
        callerTurns,
        afterLastTurn: spec.afterLastTurn,
        settleMs: spec.settleMs,
        greetingTimeoutMs: spec.greetingTimeoutMs,
        replyTimeoutMs: spec.replyTimeoutMs,
        hooks: {
          onAgentMedia: () => {
            if (firstAgentAudioEpochMs !== null) return;
            firstAgentAudioEpochMs = epochNow();
            noteLive();
          },
          // Called right after the turn's last frame went out, 20 ms before that frame's audio ends.
          onCallerTurn: (k) => {
            turnEnds[k] = epochNow() + 20;
          },
        },
      });
      if (firstAgentAudioEpochMs === null) noteLive();
      return {
        callSid: sim.callSid,
        turns: sim.turns.map((t, k) => ({ ...t, recording: order[k].recording, endEpochMs: turnEnds[k] })),
        firstAgentAudioEpochMs,
        doneEpochMs: epochNow(),
        clears: sim.clears,
        wavHeaders: sim.wavHeaders,
      };
    } catch (err) {
      if (firstAgentAudioEpochMs === null) noteLive();
      return { callSid: null, turns: [], firstAgentAudioEpochMs, doneEpochMs: epochNow(), clears: 0, wavHeaders: 0, error: err instanceof Error ? err.message : String(err) };
    } finally {
      if (!firstDone) {
        firstDone = true;
        send({ type: 'event', id, event: 'first_done', atEpochMs: epochNow() });
      }
    }
  };

  let calls: CallOutcome[];
  if (spec.sequential) {
    calls = [];
    for (let i = 0; i < spec.calls; i++) calls.push(await one(i));
  } else {
    calls = await Promise.all(Array.from({ length: spec.calls }, (_, i) => sleep(i * spec.staggerMs).then(() => one(i))));
  }
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  return {
    calls,
    lag: { p50Ms: lag.percentile(50) / 1e6, p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 },
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - t0,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
