import type { Redis } from 'ioredis';

/**
 * Calls-per-second pacing shared by every dispatcher (issue 11 item 3): one Redis key per campaign holds the next
 * instant (ms) a dial may start. {@link DialPacer.reserve} atomically (a Lua script) takes the slot
 * `max(now, next)` and moves `next` to slot + 1000/cps, so dials of one campaign are spaced 1/cps s apart whichever
 * dispatcher places them. Twilio queues calls above the account CPS rather than rejecting them (PROTOCOLS.md), so
 * this spacing keeps its queue empty.
 */
const RESERVE = `
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local slot = now
if nxt > now then slot = nxt end
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[2])), 'PX', tonumber(ARGV[3]))
return tostring(slot)
`;

/** Spacing (ms) between dials for `cps` calls per second. */
export function dialIntervalMs(cps: number): number {
  return Math.max(1, Math.round(1000 / Math.max(cps, 0.001)));
}

/** Cross-process dial spacing per campaign over Redis. */
export class DialPacer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Reserves the next dial slot of `campaignId`.
   * @param nowMs the caller's clock (ms since epoch); all dispatchers must share one time base.
   * @returns the slot's instant (ms): wait until then before dialing.
   */
  async reserve(campaignId: string, cps: number, nowMs: number): Promise<number> {
    const interval = dialIntervalMs(cps);
    const r = await this.redis.eval(RESERVE, 1, `${this.prefix}:dial-pace:${campaignId}`, String(nowMs), String(interval), String(interval + 60_000));
    return Number(r);
  }
}
