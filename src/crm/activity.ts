import type { CallActivitySource } from '../db/crm-connectors';
import type { CrmCallActivity } from './connector';
export type { CallActivitySource } from '../db/crm-connectors';
import { dispositionSchema, type Disposition } from '../domain/disposition';


/**
 * The disposition when post-call analysis left none: Twilio's final status first (busy, no-answer, failed/canceled),
 * then what happened in the call (opt-out event, voicemail left, callback booked, transfer), then whether the caller
 * said anything (`abandoned` when not); otherwise `unresolved` (we cannot tell it was resolved without analysis).
 */
export function fallbackDisposition(s: CallActivitySource): Disposition {
  if (s.status === 'busy') return 'busy';
  if (s.status === 'no-answer') return 'no_answer';
  if (s.status === 'failed' || s.status === 'canceled') return 'failed';
  const has = (t: string, f?: (p: Record<string, unknown>) => boolean) => s.events.some((e) => e.type === t && (!f || f(e.payload ?? {})));
  if (has('opt_out')) return 'opted_out';
  if (has('voicemail')) return 'voicemail';
  if (has('callback', (p) => p.booked === true)) return 'callback_booked';
  if (s.transferred) return 'transferred';
  if (s.callerTurns === 0) return 'abandoned';
  return 'unresolved';
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
 * become outbound, `web` stays web (no customer number). Analysis results are used when present (an invalid stored
 * disposition falls back to {@link fallbackDisposition}); the summary is '' without analysis.
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
    disposition: stored.success ? stored.data : fallbackDisposition(s),
    summary: s.summary ?? '',
    callUrl: `${publicBaseUrl}/calls/${sid}`,
    recordingUrl: s.hasRecording ? `${publicBaseUrl}/api/calls/${sid}/recording` : null,
    fields: s.extractedFields && typeof s.extractedFields === 'object' ? s.extractedFields : {},
  };
}
