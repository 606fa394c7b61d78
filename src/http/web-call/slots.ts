import type { Redis } from 'ioredis';

/**
 * Acquire: drop expired members, refuse at the limit, else add this call with its expiry. Scores are expiry times in
 * ms from the Redis server's clock (`TIME`), so every instance agrees. KEYS[1] set; ARGV limit, ttlMs, member.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** Refresh: push a held member's expiry out by ttlMs (only if still held). KEYS[1]; ARGV ttlMs, member. */
const REFRESH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n`;

/** A held slot: refreshed while the call lives, released when it ends. */
export interface WebCallSlot {
  /** Frees the slot (idempotent; a Redis error is reported to `onError`, the TTL then frees it). */
  release(): Promise<void>;
}

export interface WebCallSlotsOptions {
  redis: Redis;
  /** Key prefix, e.g. `callcenter:webcall` (keys `<prefix>:<owner>`). */
  keyPrefix: string;
  /** Calls one owner may hold at once (WEB_CALLS_PER_USER). */
  perOwner: number;
  /** A slot not refreshed for this long (ms) frees itself (a crashed instance leaks nothing); default 60 000. */
  ttlMs?: number;
  /** Redis errors of refresh/release (the call goes on). */
  onError?: (err: unknown) => void;
}

/**
 * Concurrent browser test calls per owner (a user or an API key), counted in Redis so the cap holds across server
 * instances: one sorted set per owner whose members are callSids scored by their expiry. A held slot is refreshed
 * every `ttlMs / 3` and released when its call ends; one that is not (the instance died) expires after `ttlMs`.
 */
export class WebCallSlots {
  private readonly ttlMs: number;

  constructor(private readonly o: WebCallSlotsOptions) {
    this.ttlMs = o.ttlMs ?? 60_000;
  }

  /**
   * Takes a slot of `owner` for `callSid`.
   * @returns the slot, or null when the owner already holds `perOwner` calls.
   * @throws the Redis client's error when Redis is unreachable.
   */
  async acquire(owner: string, callSid: string): Promise<WebCallSlot | null> {
    const key = `${this.o.keyPrefix}:${owner}`;
    const ok = await this.o.redis.eval(ACQUIRE, 1, key, this.o.perOwner, this.ttlMs, callSid);
    if (ok !== 1) return null;
    const report = (err: unknown) => this.o.onError?.(err);
    const timer = setInterval(() => void this.o.redis.eval(REFRESH, 1, key, this.ttlMs, callSid).catch(report), Math.max(1, Math.floor(this.ttlMs / 3)));
    timer.unref();
    let released: Promise<void> | null = null;
    return {
      release: () =>
        (released ??= (async () => {
          clearInterval(timer);
          await this.o.redis.zrem(key, callSid).then(() => undefined, report);
        })()),
    };
  }
}
