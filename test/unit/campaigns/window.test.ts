import { nextWindowOpening, windowOpen } from '../../../src/campaigns/window';
import type { CallingWindow } from '../../../src/domain/campaign';

const weekdays: CallingWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '20:00', blackoutDates: [] };
const at = (iso: string) => new Date(iso);
const NY = 'America/New_York';
const LA = 'America/Los_Angeles';

describe('windowOpen', () => {
  it('opens at the local start (inclusive) and closes at the local end (exclusive)', () => {
    // Wed 2026-12-02, New York is UTC-5 (EST).
    expect(windowOpen(weekdays, [NY], at('2026-12-02T13:59:59Z'))).toBe(false);
    expect(windowOpen(weekdays, [NY], at('2026-12-02T14:00:00Z'))).toBe(true);
    expect(windowOpen(weekdays, [NY], at('2026-12-03T00:59:59Z'))).toBe(true);
    expect(windowOpen(weekdays, [NY], at('2026-12-03T01:00:00Z'))).toBe(false);
  });

  it('requires the window open in every zone of the contact', () => {
    // 09:00 in New York is 06:00 in Los Angeles.
    expect(windowOpen(weekdays, [NY, LA], at('2026-12-02T14:00:00Z'))).toBe(false);
    expect(windowOpen(weekdays, [NY, LA], at('2026-12-02T17:00:00Z'))).toBe(true);
  });

  it('uses the local weekday and local blackout dates', () => {
    // 2026-12-05 01:30Z is Friday 20:30 in New York (closed) but Saturday in Tokyo.
    expect(windowOpen(weekdays, ['Asia/Tokyo'], at('2026-12-05T01:30:00Z'))).toBe(false); // Sat 10:30 Tokyo
    expect(windowOpen(weekdays, ['Asia/Tokyo'], at('2026-12-04T01:30:00Z'))).toBe(true); // Fri 10:30 Tokyo
    const blackout = { ...weekdays, blackoutDates: ['2026-12-04'] };
    expect(windowOpen(blackout, ['Asia/Tokyo'], at('2026-12-04T01:30:00Z'))).toBe(false);
    // The same instant is Thursday 2026-12-03 in New York: the blackout is a local date, so not there.
    expect(windowOpen({ ...blackout, start: '00:00', end: '23:59' }, [NY], at('2026-12-04T01:30:00Z'))).toBe(true);
  });

  it('is closed for an unknown zone or no zone at all', () => {
    expect(windowOpen(weekdays, [], at('2026-12-02T17:00:00Z'))).toBe(false);
    expect(windowOpen(weekdays, ['Mars/Olympus_Mons'], at('2026-12-02T17:00:00Z'))).toBe(false);
    expect(windowOpen(weekdays, [NY, 'Mars/Olympus_Mons'], at('2026-12-02T17:00:00Z'))).toBe(false);
  });
});

describe('nextWindowOpening', () => {
  it('returns `after` itself when already open', () => {
    expect(nextWindowOpening(weekdays, [NY], at('2026-12-02T15:00:00Z'))).toEqual(at('2026-12-02T15:00:00Z'));
  });

  it('finds the latest local start across zones (the intersection)', () => {
    expect(nextWindowOpening(weekdays, [NY, LA], at('2026-12-02T10:00:00Z'))).toEqual(at('2026-12-02T17:00:00Z'));
    // Berlin 09:00 CET = 08:00Z; Tokyo closes 20:00 JST = 11:00Z → open 08:00–11:00Z.
    expect(nextWindowOpening(weekdays, ['Europe/Berlin', 'Asia/Tokyo'], at('2026-12-02T07:00:00Z'))).toEqual(at('2026-12-02T08:00:00Z'));
    expect(nextWindowOpening(weekdays, ['Europe/Berlin', 'Asia/Tokyo'], at('2026-12-02T11:00:00Z'))).toEqual(at('2026-12-03T08:00:00Z'));
  });

  it('skips weekends and blackout dates', () => {
    // Friday 2026-12-04 21:00 New York → Monday 09:00 EST.
    expect(nextWindowOpening(weekdays, [NY], at('2026-12-05T02:00:00Z'))).toEqual(at('2026-12-07T14:00:00Z'));
    expect(nextWindowOpening({ ...weekdays, blackoutDates: ['2026-12-07'] }, [NY], at('2026-12-05T02:00:00Z'))).toEqual(at('2026-12-08T14:00:00Z'));
  });

  it('follows wall-clock time across a DST change', () => {
    // US DST starts Sun 2026-03-08: Friday 09:00 is 14:00Z (EST), Monday 09:00 is 13:00Z (EDT).
    expect(nextWindowOpening(weekdays, [NY], at('2026-03-06T13:00:00Z'))).toEqual(at('2026-03-06T14:00:00Z'));
    expect(nextWindowOpening(weekdays, [NY], at('2026-03-07T02:00:00Z'))).toEqual(at('2026-03-09T13:00:00Z'));
    // Europe changes three weeks later: on Mon 2026-03-23 New York (EDT, UTC-4) and London (GMT) are 4 h apart.
    expect(nextWindowOpening(weekdays, [NY, 'Europe/London'], at('2026-03-23T00:00:00Z'))).toEqual(at('2026-03-23T13:00:00Z'));
    expect(windowOpen(weekdays, [NY, 'Europe/London'], at('2026-03-23T16:59:00Z'))).toBe(true);
    expect(windowOpen(weekdays, [NY, 'Europe/London'], at('2026-03-23T20:00:00Z'))).toBe(false); // London 20:00
  });

  it('opens at the first valid instant when the start falls in a spring-forward gap', () => {
    const night: CallingWindow = { days: ['sun'], start: '02:30', end: '05:00', blackoutDates: [] };
    // 02:30 does not exist in New York on 2026-03-08; luxon moves it to 03:30 EDT = 07:30Z.
    expect(nextWindowOpening(night, [NY], at('2026-03-08T05:00:00Z'))).toEqual(at('2026-03-08T07:30:00Z'));
  });

  it('returns null when the zones never share an open moment within the horizon', () => {
    const morning: CallingWindow = { ...weekdays, start: '09:00', end: '12:00' };
    expect(nextWindowOpening(morning, [LA, 'Asia/Tokyo'], at('2026-12-02T00:00:00Z'))).toBeNull();
    expect(nextWindowOpening(weekdays, [], at('2026-12-02T00:00:00Z'))).toBeNull();
  });
});
