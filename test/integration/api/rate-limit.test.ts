import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { startTestApi, TEST_API_KEY, type TestApi } from '../../helpers/auth-api';

describe('REST API rate limits (Redis, shared by every instance)', () => {
  let db: Knex;
  let api: TestApi;
  let ipSerial = 0;
  const freshIp = () => `203.0.113.${++ipSerial}`;
  const get = (headers: Record<string, string>) => fetch(`${api.base}/api/me`, { headers });

  beforeAll(async () => {
    db = await setupTestDb();
    api = await startTestApi({ db, trustProxyHops: 1, env: { API_IP_RATE_LIMIT_PER_MIN: '4', API_RATE_LIMIT_PER_MIN: '3' } });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
  });

  it('per IP, before authentication: wrong keys count too, then 429 with Retry-After', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 5; i++) {
      last = await get({ 'x-forwarded-for': ip, authorization: i % 2 ? 'Bearer wrong-key-123456' : `Bearer ${TEST_API_KEY}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 401, 200, 401, 429]);
    const retry = Number(last!.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(((await last!.json()) as { error: string }).error).toMatch(/too many requests from your address; try again in \d+ s/);
    expect((await get({ 'x-forwarded-for': freshIp(), authorization: `Bearer ${TEST_API_KEY}` })).status).toBe(200);
  });

  it('per principal, across IPs: the 4th request of one key in a minute is a 429; another key is unaffected', async () => {
    const actor = { kind: 'bootstrap' as const, id: 'test', label: 'test' };
    const { key } = await api.accounts.createApiKey({ name: 'rate limited', role: 'viewer' }, actor);
    const other = await api.accounts.createApiKey({ name: 'not limited', role: 'viewer' }, actor);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get({ 'x-forwarded-for': freshIp(), authorization: `Bearer ${key}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await get({ 'x-forwarded-for': freshIp(), authorization: `Bearer ${other.key}` });
    expect(res.status).toBe(200);
    const keys = await api.redis.keys(`${api.prefix}:rl:principal:api_key:*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
  });
});
