import { requestJson } from './json';
import type { components } from './schema';

/**
 * `GET /api/analytics/overview?from=&to=` (viewer): the overview of the calls that started in [from, to)
 * (src/db/overview.ts), typed from the generated schema. Latencies in ms; days are UTC `YYYY-MM-DD`; costs in USD
 * (estimated from the price table).
 */
export type Overview = components['schemas']['Overview'];
export type OverviewDay = Overview['days'][number];
export type LatencyStage = keyof Overview['latency'][number]['stages'];

/** Latency stages in display order. */
export const LATENCY_STAGES: LatencyStage[] = ['endpointingMs', 'sttMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'replyLatencyMs'];

/** The overview of [from, to) (ISO instants). @throws ApiFailure */
export function fetchOverview(from: Date, to: Date): Promise<Overview> {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return requestJson<Overview>('GET', `/api/analytics/overview?${q}`);
}

/** `GET /api/analytics/csat` (viewer): stated (survey) vs predicted CSAT of the calls that started in [from, to). */
export type CsatAgreement = components['schemas']['CsatAgreement'];

/** The CSAT agreement of [from, to), optionally of one agent. @throws ApiFailure */
export function fetchCsatAgreement(from: Date, to: Date, agentId?: string): Promise<CsatAgreement> {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), ...(agentId ? { agentId } : {}) });
  return requestJson<CsatAgreement>('GET', `/api/analytics/csat?${q}`);
}
