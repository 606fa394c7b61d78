import { requestJson } from './json';

/**
 * `GET /api/analytics/overview?from=&to=` (viewer): the overview of the calls that started in [from, to), as built
 * by the usage helper's OverviewRepo (src/db/overview.ts in its worktree). Hand-written until the route is in the
 * generated schema. Latencies in ms; days are UTC `YYYY-MM-DD`; costs in USD (estimated from the price table).
 */
export type LatencyStage = 'endpointingMs' | 'sttMs' | 'llmFirstTokenMs' | 'ttsFirstByteMs' | 'replyLatencyMs';

/** Latency stages in display order. */
export const LATENCY_STAGES: LatencyStage[] = ['endpointingMs', 'sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs'];

export interface OverviewDay {
  day: string;
  calls: number;
  answered: number;
  abandoned: number;
  transfers: number;
  contained: number;
  costUsd: number;
}

export interface Overview {
  from: string;
  to: string;
  totals: { calls: number; answered: number; abandoned: number; transfers: number; contained: number; containmentRate: number | null; costUsd: number };
  days: OverviewDay[];
  csat: { average: number | null; count: number; distribution: Record<'1' | '2' | '3' | '4' | '5', number> };
  latency: Array<{ day: string; turns: number; stages: Record<LatencyStage, { p50: number | null; p95: number | null }> }>;
  languages: Array<{ language: string | null; calls: number }>;
  topIntents: Array<{ intent: string; calls: number }>;
  liveNow: number;
}

/** The overview of [from, to) (ISO instants). @throws ApiFailure */
export function fetchOverview(from: Date, to: Date): Promise<Overview> {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return requestJson<Overview>('GET', `/api/analytics/overview?${q}`);
}
