import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets (ms) for turn stages: 5 ms .. 10 s. */
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 150, 250, 400, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000];

/**
 * The process's Prometheus metrics (prom-client). One instance per process, made by {@link createMetrics}; the
 * engine, providers and routes take it as a dependency (tests make their own to assert on). Names follow the
 * Prometheus conventions (`_total` counters, base units in the name). Served by `GET /metrics`.
 */
export interface Metrics {
  registry: Registry;
  /** Calls with a live media stream. */
  activeCalls: Gauge<string>;
  /** Per-stage turn latency in ms; `stage` ∈ endpointing, stt, llm_first_token, tts_first_byte, reply, turn_overhead. */
  turnStageMs: Histogram<'stage'>;
  /** Barge-ins (caller speech interrupted the agent). */
  bargeIns: Counter<string>;
  /** Provider failures by capability (`stt`, `tts`, `llm`, `embeddings`, `vector`), provider id and kind (`timeout`, `http_429`, `http_5xx`, `error`). */
  providerErrors: Counter<'capability' | 'provider' | 'kind'>;
  /** Fallbacks taken: a request served by a provider after `from` failed. */
  providerFallbacks: Counter<'capability' | 'from' | 'to'>;
  /** Call-control actions: transfer, hangup, reprompt, dtmf. */
  callControl: Counter<'action'>;
  /** Circuit-breaker state per provider: 0 closed, 1 half-open (probing), 2 open (skipped). */
  providerCircuitState: Gauge<'capability' | 'provider'>;
  /** VAD windows whose inference failed (each failed window is counted; the call goes on with the next). */
  vadFailedWindows: Counter<string>;
  /** Media streams closed by the server, by reason (`protocol`, `ahead_of_real_time`, `queue_full`, `slow_consumer`, `idle`). */
  streamsClosed: Counter<'reason'>;
  /** 1 while the process drains (SIGTERM received: no new calls, live ones finishing). */
  draining: Gauge<string>;
}

/**
 * Creates a registry with the default Node metrics (event-loop delay `nodejs_eventloop_lag_*`, heap, CPU) and the
 * call-center metrics above, all prefixed `callcenter_` except the defaults.
 * @param o.defaultMetrics collect Node default metrics (default true; tests may turn it off).
 */
export function createMetrics(o: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return {
    registry,
    activeCalls: new Gauge({ name: 'callcenter_active_calls', help: 'Calls with a live media stream', registers: [registry] }),
    turnStageMs: new Histogram({
      name: 'callcenter_turn_stage_ms',
      help: 'Turn latency per stage in milliseconds',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS_MS,
      registers: [registry],
    }),
    bargeIns: new Counter({ name: 'callcenter_barge_ins_total', help: 'Caller speech that interrupted the agent', registers: [registry] }),
    providerErrors: new Counter({
      name: 'callcenter_provider_errors_total',
      help: 'Provider failures by capability, provider and kind',
      labelNames: ['capability', 'provider', 'kind'],
      registers: [registry],
    }),
    providerFallbacks: new Counter({
      name: 'callcenter_provider_fallbacks_total',
      help: 'Requests served by a fallback provider after the previous one failed',
      labelNames: ['capability', 'from', 'to'],
      registers: [registry],
    }),
    callControl: new Counter({ name: 'callcenter_call_control_total', help: 'Call-control actions (transfer, hangup, reprompt, dtmf)', labelNames: ['action'], registers: [registry] }),
    providerCircuitState: new Gauge({
      name: 'callcenter_provider_circuit_state',
      help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open',
      labelNames: ['capability', 'provider'],
      registers: [registry],
    }),
    vadFailedWindows: new Counter({ name: 'callcenter_vad_failed_windows_total', help: 'VAD windows whose inference failed', registers: [registry] }),
    streamsClosed: new Counter({ name: 'callcenter_media_streams_closed_total', help: 'Media streams closed by the server, by reason', labelNames: ['reason'], registers: [registry] }),
    draining: new Gauge({ name: 'callcenter_draining', help: '1 while the process drains after SIGTERM', registers: [registry] }),
  };
}
