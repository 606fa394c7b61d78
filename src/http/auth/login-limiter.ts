import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** Failed-login limits (Config `auth.login`). */
export interface LoginLimits {
  /** Failures of one account from one IP within `lockoutMs` before that pair is locked for `lockoutMs`. */
  maxFailuresPerAccountIp: number;
  lockoutMs: number;
  /** Failures of one account from any IPs within an hour before the account is locked for an hour. */
  maxFailuresPerAccount: number;
  /** Failures from one IP (any accounts) within a day before the IP is locked for a day. */
  maxFailuresPerIp: number;
}

/** A lock-out: which counter and how long until the next attempt is allowed (ms). */
export interface LoginLockout {
  scope: 'account-ip' | 'account' | 'ip';
  retryAfterMs: number;
}

interface Counter {
  scope: LoginLockout['scope'];
  limiter: RateLimiterRedis;
  max: number;
  blockS: number;
  key(email: string, ip: string): string;
}

/**
 * Brute-force protection of `POST /api/auth/login` (OWASP Authentication Cheat Sheet, "Account Lockout"; the
 * rate-limiter-flexible "login endpoint protection" pattern), with three failure counters in Redis shared by every
 * instance: per account + IP (default 5 per 15 min, locks that pair 15 min — the usual case, and it cannot lock a
 * user out from elsewhere), per account from any IP (50 per hour: a distributed guess at one account), and per IP
 * (100 per day: one client spraying many accounts). Only failures count; a success clears the account counters.
 * Counters reaching their maximum lock at once: the failing attempt that reaches it already answers 429.
 */
export class LoginLimiter {
  private readonly counters: Counter[];

  /** `keyPrefix` e.g. `callcenter:login`; keys are `<prefix>:<scope>:<key>`. */
  constructor(redis: Redis, keyPrefix: string, l: LoginLimits) {
    const lockoutS = Math.max(1, Math.ceil(l.lockoutMs / 1000));
    const counter = (scope: Counter['scope'], max: number, windowS: number, key: Counter['key']): Counter => ({
      scope,
      max,
      blockS: windowS,
      key,
      limiter: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}:${scope}`, points: max, duration: windowS }),
    });
    this.counters = [
      counter('account-ip', l.maxFailuresPerAccountIp, lockoutS, (email, ip) => `${email}|${ip}`),
      counter('account', l.maxFailuresPerAccount, 3600, (email) => email),
      counter('ip', l.maxFailuresPerIp, 86_400, (_email, ip) => ip),
    ];
  }

  /** The longest current lock-out for this email (normalized) and IP, or null when a login may be attempted. */
  async check(email: string, ip: string): Promise<LoginLockout | null> {
    const states = await Promise.all(this.counters.map(async (c) => ({ c, res: await c.limiter.get(c.key(email, ip)) })));
    return longest(states.filter(({ c, res }) => res !== null && res.consumedPoints >= c.max).map(({ c, res }) => ({ scope: c.scope, retryAfterMs: res!.msBeforeNext })));
  }

  /** Counts a failed login; returns the lock-out it caused (or that already held), else null. */
  async fail(email: string, ip: string): Promise<LoginLockout | null> {
    const locks = await Promise.all(
      this.counters.map(async (c): Promise<LoginLockout | null> => {
        const key = c.key(email, ip);
        try {
          const res = await c.limiter.consume(key);
          if (res.consumedPoints < c.max) return null;
          await c.limiter.block(key, c.blockS);
          return { scope: c.scope, retryAfterMs: c.blockS * 1000 };
        } catch (err) {
          if (err instanceof RateLimiterRes) return { scope: c.scope, retryAfterMs: err.msBeforeNext };
          throw err;
        }
      }),
    );
    return longest(locks.filter((l): l is LoginLockout => l !== null));
  }

  /** A successful login clears the account + IP and account counters (not the IP's: it may be spraying). */
  async succeed(email: string, ip: string): Promise<void> {
    await Promise.all(this.counters.filter((c) => c.scope !== 'ip').map((c) => c.limiter.delete(c.key(email, ip))));
  }
}

const longest = (locks: LoginLockout[]): LoginLockout | null => locks.reduce<LoginLockout | null>((a, b) => (a && a.retryAfterMs >= b.retryAfterMs ? a : b), null);
