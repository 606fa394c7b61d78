import { breakerTrips } from '../../../src/campaigns/breaker';
import { chooseCallerId } from '../../../src/campaigns/dialer';

describe('breakerTrips', () => {
  it('trips at the threshold within the sliding window (newest first)', () => {
    const o = { threshold: 5, window: 10 };
    expect(breakerTrips([true, true, true, true], o)).toBe(false);
    expect(breakerTrips([true, true, true, true, true], o)).toBe(true);
    expect(breakerTrips([true, false, true, false, true, false, true, false, true, false], o)).toBe(true);
    // The fifth failure is the 11th dial back: outside the window.
    expect(breakerTrips([true, false, true, false, true, false, true, false, false, false, true], o)).toBe(false);
  });
});

type Pool = { number: string; dailyCap: number | null }[];
const cases: [string, Pool, Record<string, number>, string | null][] = [
  ['least used first, pool order breaks ties', [{ number: '+1A', dailyCap: null }, { number: '+1B', dailyCap: null }], {}, '+1A'],
  ['rotates to the less used', [{ number: '+1A', dailyCap: null }, { number: '+1B', dailyCap: null }], { '+1A': 3, '+1B': 2 }, '+1B'],
  ['skips a number at its cap', [{ number: '+1A', dailyCap: 2 }, { number: '+1B', dailyCap: null }], { '+1A': 2, '+1B': 9 }, '+1B'],
  ['none when all are capped', [{ number: '+1A', dailyCap: 1 }], { '+1A': 1 }, null],
];

describe('chooseCallerId', () => {
  it.each(cases)('%s', (_name, pool, usage, expected) => {
    expect(chooseCallerId(pool, new Map(Object.entries(usage)))).toBe(expected);
  });
});
