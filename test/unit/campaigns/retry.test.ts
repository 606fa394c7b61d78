import { nextAttempt, UNKNOWN_SAFETY_DELAY_S } from '../../../src/campaigns/retry';
import type { CallingWindow, RetryPolicy } from '../../../src/domain/campaign';

const always: CallingWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59', blackoutDates: [] };
const weekdays: CallingWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '20:00', blackoutDates: [] };
const policy: RetryPolicy = { maxAttempts: 4, delaysSeconds: { busy: [1_800, 7_200, 86_400], noAnswer: [3_600], failed: [], voicemail: [86_400] } };
const NY = ['America/New_York'];
const now = new Date('2026-12-02T15:00:00Z'); // Wed 10:00 EST
const plus = (s: number) => new Date(now.getTime() + s * 1000);

describe('nextAttempt', () => {
  it('walks an outcome ladder and repeats its last entry', () => {
    expect(nextAttempt(policy, 'busy', 1, 0, now, always, NY)).toEqual({ at: plus(1_800) });
    expect(nextAttempt(policy, 'busy', 2, 1, now, always, NY)).toEqual({ at: plus(7_200) });
    expect(nextAttempt(policy, 'busy', 3, 2, now, always, NY)).toEqual({ at: plus(86_400) });
    expect(nextAttempt({ ...policy, maxAttempts: 10 }, 'busy', 6, 5, now, always, NY)).toEqual({ at: plus(86_400) });
    expect(nextAttempt(policy, 'no-answer', 1, 0, now, always, NY)).toEqual({ at: plus(3_600) });
  });

  it('shares one attempt budget across outcomes', () => {
    expect(nextAttempt(policy, 'no-answer', 4, 0, now, always, NY)).toEqual({ final: 'failed' });
    expect(nextAttempt(policy, 'busy', 4, 0, now, always, NY)).toEqual({ final: 'failed' });
    // A voicemail was left: the contact is done even with no retry left.
    expect(nextAttempt(policy, 'voicemail', 4, 0, now, always, NY)).toEqual({ final: 'done' });
  });

  it('never retries a conversation, an opt-out, a wrong number or a fax; an empty ladder ends the contact', () => {
    expect(nextAttempt(policy, 'completed', 1, 0, now, always, NY)).toEqual({ final: 'done' });
    expect(nextAttempt(policy, 'opted-out', 1, 0, now, always, NY)).toEqual({ final: 'opted-out' });
    expect(nextAttempt(policy, 'wrong-number', 1, 0, now, always, NY)).toEqual({ final: 'failed' });
    expect(nextAttempt(policy, 'fax', 1, 0, now, always, NY)).toEqual({ final: 'failed' });
    expect(nextAttempt(policy, 'failed', 1, 0, now, always, NY)).toEqual({ final: 'failed' });
  });

  it('pushes a retry to the next opening of the window in every zone', () => {
    const late = new Date('2026-12-03T00:30:00Z'); // Wed 19:30 EST; +30 min = 20:00 → closed
    expect(nextAttempt(policy, 'busy', 1, 0, late, weekdays, NY)).toEqual({ at: new Date('2026-12-03T14:00:00Z') });
    // Friday evening → Monday; and Los Angeles too → Monday 09:00 PST.
    const fri = new Date('2026-12-05T00:30:00Z');
    expect(nextAttempt(policy, 'busy', 1, 0, fri, weekdays, ['America/New_York', 'America/Los_Angeles'])).toEqual({ at: new Date('2026-12-07T17:00:00Z') });
  });

  it('ends the contact when the window never opens', () => {
    const morning: CallingWindow = { ...weekdays, end: '12:00' };
    expect(nextAttempt(policy, 'busy', 1, 0, now, morning, ['America/Los_Angeles', 'Asia/Tokyo'])).toEqual({ final: 'failed' });
  });

  it('waits at least the safety delay after an unknown attempt', () => {
    const p: RetryPolicy = { ...policy, delaysSeconds: { ...policy.delaysSeconds, failed: [60] } };
    expect(nextAttempt(p, 'unknown', 1, 0, now, always, NY)).toEqual({ at: plus(UNKNOWN_SAFETY_DELAY_S) });
  });
});
