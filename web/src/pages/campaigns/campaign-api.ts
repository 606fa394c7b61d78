import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schema } from '../../api/client';

/** A campaign as the API returns it (generated type). */
export type Campaign = Schema<'Campaign'>;
/** `GET /api/campaigns/:id`: the campaign with counts per contact state, funnel, attempts used and ETA. */
export type CampaignProgress = Schema<'CampaignProgress'>;
/** A contact state (issue 11: pending → dialing → in-progress → done | retry-scheduled | failed | opted-out | suppressed). */
export type ContactState = Schema<'CampaignContact'>['state'];
/** A campaign state (draft → running ⇄ paused → completed | cancelled). */
export type CampaignState = Campaign['state'];

/** Contact states in display order. */
export const CONTACT_STATES: ContactState[] = ['pending', 'dialing', 'in-progress', 'retry-scheduled', 'done', 'failed', 'opted-out', 'suppressed'];

/** Contact states no further attempt follows (the progress bar's "finished" share). */
export const FINAL_STATES: ReadonlySet<ContactState> = new Set(['done', 'failed', 'opted-out', 'suppressed']);

/** Badge colour of a campaign state. */
export const STATE_COLOR: Record<CampaignState, string> = { draft: 'gray', running: 'blue', paused: 'yellow', completed: 'green', cancelled: 'red' };

/** Query key prefix of everything campaign-related (invalidated after an action). */
export const CAMPAIGNS_KEY = ['campaigns'] as const;

/** `GET /api/campaigns` (newest first). */
export function useCampaigns() {
  return useQuery({ queryKey: [...CAMPAIGNS_KEY, 'list'], queryFn: () => unwrap(api.GET('/api/campaigns')).then((r) => r.campaigns) });
}

/** `GET /api/agents` (non-archived), for the agent picker. */
export function useAgents() {
  return useQuery({ queryKey: ['agents', 'list'], queryFn: () => unwrap(api.GET('/api/agents')).then((r) => r.agents) });
}

/** Finished contacts (done, failed, opted-out, suppressed) out of all, 0–100 (%); 0 with no contacts. */
export function finishedPercent(counts: Record<ContactState, number>): number {
  const total = CONTACT_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  if (!total) return 0;
  const done = CONTACT_STATES.filter((s) => FINAL_STATES.has(s)).reduce((n, s) => n + (counts[s] ?? 0), 0);
  return Math.round((done / total) * 100);
}
