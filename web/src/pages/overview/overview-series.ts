import type uPlot from 'uplot';
import { LATENCY_STAGES, type LatencyStage, type Overview } from '../../api/analytics';

/** A UTC day (`YYYY-MM-DD`) as Unix seconds at its midnight (uPlot's time axis). */
const daySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export const STAGE_LABEL: Record<LatencyStage, string> = {
  endpointingMs: 'Endpointing',
  sttMs: 'STT',
  llmFirstTokenMs: 'LLM first token',
  ttsFirstByteMs: 'TTS first byte',
  replyLatencyMs: 'Reply',
};

const STAGE_COLOR: Record<LatencyStage, string> = {
  endpointingMs: '#1c7ed6',
  sttMs: '#2f9e44',
  llmFirstTokenMs: '#e8590c',
  ttsFirstByteMs: '#9c36b5',
  replyLatencyMs: '#212529',
};

/** Calls per day: x days, then total, answered and abandoned. */
export function callsPerDay(o: Overview): { data: uPlot.AlignedData; series: uPlot.Series[] } {
  return {
    data: [o.days.map((d) => daySeconds(d.day)), o.days.map((d) => d.calls), o.days.map((d) => d.answered), o.days.map((d) => d.abandoned)],
    series: [
      { label: 'Calls', stroke: '#1c7ed6', width: 2 },
      { label: 'Answered', stroke: '#2f9e44' },
      { label: 'Abandoned', stroke: '#e03131' },
    ],
  };
}

/** Latency per day: for each stage its p50 (solid) and p95 (dashed), ms; a day without the stage is a gap. */
export function latencyPerDay(o: Overview): { data: uPlot.AlignedData; series: uPlot.Series[] } {
  const x = o.latency.map((d) => daySeconds(d.day));
  const ys: Array<Array<number | null>> = [];
  const series: uPlot.Series[] = [];
  for (const s of LATENCY_STAGES) {
    for (const p of ['p50', 'p95'] as const) {
      ys.push(o.latency.map((d) => d.stages[s][p]));
      series.push({ label: `${STAGE_LABEL[s]} ${p}`, stroke: STAGE_COLOR[s], dash: p === 'p95' ? [6, 4] : undefined, spanGaps: false });
    }
  }
  return { data: [x, ...ys] as uPlot.AlignedData, series };
}
