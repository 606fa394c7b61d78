import { DateTime } from 'luxon';
import { WEEKDAYS, type CallingWindow } from '../domain/campaign';

/**
 * Calling windows (issue 11 items 2–3): a contact may be dialed only when the campaign's window (days of week, local
 * `start`–`end`, blackout dates) is open in EVERY one of its IANA zones (a number whose prefix spans several zones).
 * Local times come from luxon's IANA database, so DST is honoured (a 09:00 start is 09:00 wall-clock on both sides
 * of a change; a start inside a spring-forward gap opens at the first valid instant after it).
 */

/** Days looked ahead by {@link nextWindowOpening} before giving up. */
export const WINDOW_HORIZON_DAYS = 14;

function openInZone(w: CallingWindow, zone: string, now: Date): boolean {
  const local = DateTime.fromJSDate(now, { zone });
  if (!local.isValid) return false; // unknown zone: never dial blind
  if (!w.days.includes(WEEKDAYS[local.weekday - 1])) return false;
  if ((w.blackoutDates ?? []).includes(local.toISODate()!)) return false;
  const hhmm = local.toFormat('HH:mm');
  return hhmm >= w.start && hhmm < w.end;
}

/**
 * True when the window is open at instant `now` in every zone of `zones` (start inclusive, end exclusive, local
 * wall-clock). An empty zone list or an unknown zone → false (we do not know the callee's local time).
 */
export function windowOpen(w: CallingWindow, zones: readonly string[], now: Date): boolean {
  if (!zones.length) return false;
  return zones.every((z) => openInZone(w, z, now));
}

/**
 * The earliest instant ≥ `after` at which {@link windowOpen} is true, or null when there is none within
 * `horizonDays` (default 14; e.g. an empty intersection of zones' windows, or every day blacked out). The open set is
 * a union of per-zone local-day intervals, so its intersection starts either at `after` or at some zone's local
 * `start` on some day: those are the only candidates checked.
 */
export function nextWindowOpening(w: CallingWindow, zones: readonly string[], after: Date, horizonDays = WINDOW_HORIZON_DAYS): Date | null {
  if (!zones.length) return null;
  if (windowOpen(w, zones, after)) return after;
  const [sh, sm] = w.start.split(':').map(Number);
  const limit = after.getTime() + horizonDays * 86_400_000;
  const candidates: number[] = [];
  for (const zone of zones) {
    const first = DateTime.fromJSDate(after, { zone }).startOf('day');
    if (!first.isValid) return null;
    for (let d = -1; d <= horizonDays + 1; d++) {
      const day = first.plus({ days: d });
      const t = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: sh, minute: sm }, { zone }).toMillis();
      if (t >= after.getTime() && t <= limit) candidates.push(t);
    }
  }
  candidates.sort((a, b) => a - b);
  for (const t of candidates) if (windowOpen(w, zones, new Date(t))) return new Date(t);
  return null;
}
