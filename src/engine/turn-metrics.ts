import type { TurnTimings } from '../domain/calls';
import type { Metrics } from '../metrics/metrics';

/** Observes an answered turn's stage latencies (ms) in `callcenter_turn_stage_ms{stage}`. */
export function observeTimings(metrics: Pick<Metrics, 'turnStageMs'>, t: TurnTimings): void {
  const stages: Array<[string, number | undefined]> = [
    ['endpointing', t.endpointingMs], ['stt', t.sttMs], ['llm_first_token', t.llmFirstTokenMs],
    ['tts_first_byte', t.ttsFirstByteMs], ['reply', t.replyLatencyMs], ['turn_overhead', t.turnOverheadMs],
  ];
  for (const [stage, v] of stages) if (v !== undefined) metrics.turnStageMs.observe({ stage }, v);
}
