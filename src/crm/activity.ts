import type { CallActivitySource } from '../db/crm-connectors';
import type { CrmCallActivity } from './connector';
export type { CallActivitySource } from '../db/crm-connectors';
import { localDisposition } from '../analytics/disposition-rules';
import { dispositionSchema } from '../domain/disposition';

/**
 * Whether the callee opted out in this call (an `opt_out` event), whatever its disposition: a voicemail call where
 * the callee still said "stop calling" is dispositioned `voicemail` (the rule's precedence) yet must be marked
 * do-not-call in the CRM.
 */
export function calleeOptedOut(s: Pick<CallActivitySource, 'events' | 'disposition'>): boolean {
  return s.disposition === 'opted_out' || s.events.some((e) => e.type === 'opt_out');
}

/** Talk time (ms): the terminal status callback's `CallDuration` (s) when known, else endedAt − startedAt; 0 when it never connected. */
export function talkTimeMs(s: CallActivitySource): number {
  if (['busy', 'no-answer', 'failed', 'canceled'].includes(s.status)) return 0;
  for (const e of [...s.events].reverse()) {
    const d = Number(e.type === 'twilio.status' ? e.payload?.CallDuration : NaN);
    if (Number.isFinite(d) && d >= 0) return Math.round(d * 1000);
  }
  return s.endedAt ? Math.max(0, new Date(s.endedAt).getTime() - new Date(s.startedAt).getTime()) : 0;
}

/**
 * The {@link CrmCallActivity} of a finished call. `publicBaseUrl`: the dashboard's origin (no trailing slash) for
 * `callUrl` and the recording link. Direction: Twilio's `inbound` stays inbound, `outbound-api`/`outbound-dial`
 * become outbound, `web` stays web (no customer number). Analysis results are used when present; a call with no
 * (valid) stored disposition gets the analysis' own rule, src/analytics/disposition-rules.ts `localDisposition` (the
 * recorded facts first, then the conversation's outcome), so the CRM never disagrees with what the call would
 * store. The summary is '' without analysis.
 */
export function buildCallActivity(s: CallActivitySource, publicBaseUrl: string): CrmCallActivity {
  const direction = s.direction === 'web' ? 'web' : s.direction.startsWith('outbound') ? 'outbound' : 'inbound';
  const stored = dispositionSchema.safeParse(s.disposition);
  const sid = encodeURIComponent(s.callSid);
  return {
    callSid: s.callSid,
    direction,
    customerNumber: direction === 'web' ? null : direction === 'outbound' ? s.to : s.from,
    from: s.from,
    to: s.to,
    startedAt: new Date(s.startedAt).toISOString(),
    endedAt: s.endedAt ? new Date(s.endedAt).toISOString() : null,
    durationMs: talkTimeMs(s),
    status: s.status,
    disposition: stored.success ? stored.data : localDisposition(s),
    summary: s.summary ?? '',
    callUrl: `${publicBaseUrl}/calls/${sid}`,
    recordingUrl: s.hasRecording ? `${publicBaseUrl}/api/calls/${sid}/recording` : null,
    fields: s.extractedFields && typeof s.extractedFields === 'object' ? s.extractedFields : {},
  };
}
