import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { createTestUser, login, startTestApi, uniqueEmail, type TestApi } from '../../helpers/auth-api';

const json = (res: Response): Promise<any> => res.json();

describe('login brute-force protection (failures counted in Redis)', () => {
  let db: Knex;
  let api: TestApi;
  let ipSerial = 0;
  /** A fresh client address (the app trusts one proxy hop, so X-Forwarded-For is the client IP). */
  const freshIp = () => `198.51.100.${++ipSerial}`;
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  beforeAll(async () => {
    db = await setupTestDb();
    api = await startTestApi({
      db,
      trustProxyHops: 1,
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: '3', LOGIN_LOCKOUT_MS: '900000', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES_PER_IP: '6' },
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
  });

  it('per account + IP: the 3rd failure locks that pair out (429 + Retry-After ≈ 15 min), even for the right password; other IPs still log in', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const ip = freshIp();
    const statuses: number[] = [];
    let locked: Response | null = null;
    for (let i = 0; i < 3; i++) {
      const { res } = await login(api.base, u.email, 'wrong password 123', from(ip));
      statuses.push(res.status);
      locked = res;
    }
    expect(statuses).toEqual([401, 401, 429]);
    expect(Number(locked!.headers.get('retry-after'))).toBeGreaterThan(890);
    expect(Number(locked!.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    expect((await json(locked!)).error).toMatch(/too many failed logins for this account from your address; try again in 15 min/);

    const right = await login(api.base, u.email, u.password, from(ip));
    expect(right.res.status).toBe(429);
    expect(right.cookie).toBeNull();
    expect(Number(right.res.headers.get('retry-after'))).toBeGreaterThan(0);

    expect((await login(api.base, u.email, u.password, from(freshIp()))).res.status).toBe(200);
    // The success elsewhere does not lift this pair's lock-out.
    expect((await login(api.base, u.email, u.password, from(ip))).res.status).toBe(429);
  });

  it('a successful login resets the account counters', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const ip = freshIp();
    const attempt = async (password: string) => (await login(api.base, u.email, password, from(ip))).res.status;
    expect([await attempt('wrong password 1'), await attempt('wrong password 2')]).toEqual([401, 401]);
    expect(await attempt(u.password)).toBe(200);
    expect([await attempt('wrong password 3'), await attempt('wrong password 4')]).toEqual([401, 401]);
  });

  it('per account from any IP: the 5th failure locks the account for an hour', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 5; i++) {
      last = (await login(api.base, u.email, `wrong password ${i}`, from(freshIp()))).res;
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(3500);
    expect((await json(last!)).error).toMatch(/too many failed logins for this account;/);
    expect((await login(api.base, u.email, u.password, from(freshIp()))).res.status).toBe(429);
  });

  it('per IP over many accounts: the 6th failure from one address locks it for a day, whatever the account', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 6; i++) {
      last = (await login(api.base, uniqueEmail('spray'), 'wrong password 123', from(ip))).res;
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(86_000);
    expect((await json(last!)).error).toMatch(/too many failed logins from your address/);
    const u = await createTestUser(api.accounts, 'viewer');
    expect((await login(api.base, u.email, u.password, from(ip))).res.status).toBe(429);
    expect((await login(api.base, u.email, u.password, from(freshIp()))).res.status).toBe(200);
  });

  it('the counters live in Redis under the server’s prefix (shared by every instance)', async () => {
    const keys = await api.redis.keys(`${api.prefix}:login:*`);
    expect(keys.some((k) => k.startsWith(`${api.prefix}:login:account-ip:`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`${api.prefix}:login:ip:`))).toBe(true);
  });
});
