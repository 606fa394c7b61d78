import type { Redis } from 'ioredis';

/**
 * Calls-per-second pacing shared by every dispatcher (issue 11 item 3): one Redis key per campaign holds the next
 * instant a dial may start, on **Redis's clock** (`TIME` inside the script, ms). {@link DialPacer.reserve} atomically
 * (a Lua script) takes the slot `max(redisNow, next)`, moves `next` to slot + 1000/cps and answers how far the slot lies
 * ahead of Redis's now; the caller adds that delay to its own clock. So dials of one campaign are spaced 1/cps s apart
 * whichever dispatcher places them, even when the dispatchers' hosts disagree about the time (a skewed local clock
 * shifts only its own reading, never the spacing). Twilio queues calls above the account CPS rather than rejecting
 * them (PROTOCOLS.md), so this spacing keeps its queue empty. `TIME` in a script needs Redis ≥ 5 (effects replication;
 * the default since 5.0, the only mode since 7.0).
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = now
if nxt > now then slot = nxt end
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', tonumber(ARGV[2]))
return tostring(slot - now)
`;

/** Spacing (ms) between dials for `cps` calls per second. */
export function dialIntervalMs(cps: number): number {
  return Math.max(1, Math.round(1000 / Math.max(cps, 0.001)));
}

/** Cross-process dial spacing per campaign over Redis, on Redis's clock. */
export class DialPacer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Reserves the next dial slot of `campaignId` at `cps` calls per second.
   * @param nowMs the caller's clock (ms since epoch) when it asks; only the returned instant is on this clock, the
   *   spacing itself is decided on Redis's clock, so dispatchers whose clocks differ still space dials correctly.
   * @returns the slot's instant on the caller's clock (ms): `nowMs` + the slot's delay; wait until then before dialing.
   * @throws the Redis client's error when Redis cannot be reached (the caller gives its claim back).
   */
  async reserve(campaignId: string, cps: number, nowMs: number): Promise<number> {
    const interval = dialIntervalMs(cps);
    const delay = await this.redis.eval(RESERVE, 1, `${this.prefix}:dial-pace:${campaignId}`, String(interval), String(interval + 60_000));
    return nowMs + Number(delay);
  }
}
