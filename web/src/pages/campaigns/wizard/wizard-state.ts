import type { Schema } from '../../../api/client';
import type { ColumnTarget, CsvPreview } from '../csv-preview';

/** Weekdays as the API names them (issue 11 "Names": `window.days`). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Outcomes with a retry ladder (`retry.delaysSeconds` keys). */
export const RETRY_OUTCOMES = ['busy', 'noAnswer', 'failed', 'voicemail'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

/** Everything the wizard collects; ladders are text like `30m, 2h, 1d` until the body is built. */
export interface WizardState {
  name: string;
  agentId: string | null;
  callerIds: string[];
  defaultRegion: string;
  voicemailMessage: string;
  csv: { fileName: string; text: string; preview: CsvPreview; targets: ColumnTarget[] } | null;
  days: string[];
  start: string;
  end: string;
  blackoutDates: string[];
  maxConcurrent: number;
  cps: number;
  maxAttempts: number;
  ladders: Record<RetryOutcome, string>;
}

/** The wizard's starting values (the API's defaults: Mon–Fri 09:00–20:00, 1 concurrent, 1 CPS, 3 attempts). */
export const INITIAL_STATE: WizardState = {
  name: '',
  agentId: null,
  callerIds: [],
  defaultRegion: 'US',
  voicemailMessage: '',
  csv: null,
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '20:00',
  blackoutDates: [],
  maxConcurrent: 1,
  cps: 1,
  maxAttempts: 3,
  ladders: { busy: '30m, 2h, 1d', noAnswer: '1h, 4h, 1d', failed: '1h', voicemail: '1d' },
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A delay ladder from text: comma-separated durations with a unit (`90s`, `30m`, `2h`, `1d`) → seconds.
 * Empty text → `[]` (that outcome is not retried). @throws Error naming the entry that is not a duration.
 */
export function parseLadder(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(p);
    if (!m) throw new Error(`"${p}" is not a duration like 30m, 2h or 1d`);
    return Math.round(Number(m[1]) * UNIT_SECONDS[m[2].toLowerCase()]);
  });
}

/** Seconds as the ladder's text unit (86400 → `1d`, 5400 → `90m`). */
export function formatDelay(s: number): string {
  for (const [u, n] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) if (s % n === 0) return `${s / n}${u}`;
  return `${s}s`;
}

/** The `POST /api/campaigns` body of the wizard's values. @throws Error from {@link parseLadder}. */
export function toCreateBody(s: WizardState): Schema<'CampaignCreate'> {
  const delaysSeconds = Object.fromEntries(RETRY_OUTCOMES.map((o) => [o, parseLadder(s.ladders[o])])) as Record<RetryOutcome, number[]>;
  return {
    name: s.name.trim(),
    agentId: s.agentId ?? '',
    callerIds: s.callerIds,
    ...(s.defaultRegion.trim() ? { defaultRegion: s.defaultRegion.trim().toUpperCase() } : {}),
    window: { days: s.days as Schema<'CampaignCreate'>['window']['days'], start: s.start, end: s.end, blackoutDates: s.blackoutDates },
    maxConcurrent: s.maxConcurrent,
    cps: s.cps,
    retry: { maxAttempts: s.maxAttempts, delaysSeconds },
    ...(s.voicemailMessage.trim() ? { voicemailMessage: s.voicemailMessage.trim() } : {}),
  };
}
