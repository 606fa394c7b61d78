import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { createTestUser, login, sessionCookie, sessionIdOf, signedSessionCookie, startTestApi, TEST_API_KEY, type TestApi } from '../../helpers/auth-api';

const json = (res: Response): Promise<any> => res.json();

describe('login, sessions, logout, CSRF', () => {
  let db: Knex;
  let api: TestApi;
  const ORIGIN = 'http://dashboard.test';

  const me = (cookie: string | null) => fetch(`${api.base}/api/me`, { headers: cookie ? { cookie } : {} });
  const sessionKey = (cookie: string) => `${api.prefix}:sess:${sessionIdOf(cookie)}`;

  beforeAll(async () => {
    db = await setupTestDb();
    api = await startTestApi({ db, env: { SESSION_TTL_MS: '600000' } });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
  });

  describe('POST /api/auth/login', () => {
    it('200 { user } and a session cookie for the right password; the email is case-insensitive', async () => {
      const u = await createTestUser(api.accounts, 'supervisor');
      const { res, cookie } = await login(api.base, u.email.toUpperCase(), u.password);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.user).toMatchObject({ id: u.id, email: u.email, role: 'supervisor', disabled: false });
      expect(JSON.stringify(body)).not.toMatch(/argon2|password/i);
      expect(cookie).toMatch(/^cc_session=s%3A/);
      const who = await json(await me(cookie));
      expect(who).toEqual({ principal: { kind: 'user', id: u.id, role: 'supervisor', label: u.email }, user: expect.objectContaining({ id: u.id }) });
      const row = await db('users').where({ id: u.id }).first();
      expect(row.last_login_at).not.toBeNull();
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });

    it('401 with one message for a wrong password, an unknown email and a disabled user; no cookie', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const off = await createTestUser(api.accounts, 'viewer', 'disabled');
      await api.accounts.updateUser(off.id, { disabled: true }, { kind: 'bootstrap', id: 'test', label: 'test' });
      for (const [email, password] of [
        [u.email, 'wrong password 123'],
        [`nobody-${Date.now()}@test.example`, u.password],
        [off.email, off.password],
      ]) {
        const { res, cookie } = await login(api.base, email, password);
        expect(res.status).toBe(401);
        expect(await json(res)).toEqual({ error: 'invalid email or password' });
        expect(cookie).toBeNull();
      }
    });

    it('400 { error, issues } for a missing or unknown field, 415 for a non-JSON body', async () => {
      const res = await fetch(`${api.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@test.example', pw: 'x' }) });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.issues.map((i: any) => i.path)).toEqual(expect.arrayContaining(['body.password']));
      expect(body.error).toMatch(/pw/);
      const form = await fetch(`${api.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a&password=b' });
      expect(form.status).toBe(415);
    });

    it('403 when sent from a foreign origin (login CSRF)', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const { res, cookie } = await login(api.base, u.email, u.password, { origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(cookie).toBeNull();
      expect((await login(api.base, u.email, u.password, { origin: ORIGIN })).res.status).toBe(200);
    });
  });

  describe('the session cookie', () => {
    it('is HttpOnly, SameSite=Lax, Path=/api, expiring SESSION_TTL_MS after the response, and not Secure on an http base URL', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const { res } = await login(api.base, u.email, u.password);
      const set = res.headers.getSetCookie().find((c) => c.startsWith('cc_session='))!;
      const attrs = set.split(';').slice(1).map((a) => a.trim().toLowerCase());
      expect(attrs).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/api']));
      expect(attrs).not.toContain('secure');
      const expires = Date.parse(attrs.find((a) => a.startsWith('expires='))!.slice('expires='.length));
      const sent = Date.parse(res.headers.get('date')!);
      // Both headers have 1 s resolution.
      expect(Math.abs((expires - sent) / 1000 - 600)).toBeLessThanOrEqual(1);
    });

    it('carries Secure when PUBLIC_BASE_URL is https (even over the plain-http hop behind the proxy)', async () => {
      const https = await startTestApi({ db, env: { PUBLIC_BASE_URL: 'https://voice.example.com' } });
      try {
        const u = await createTestUser(https.accounts, 'viewer');
        const { res, cookie } = await login(https.base, u.email, u.password);
        expect(res.status).toBe(200);
        const set = res.headers.getSetCookie().find((c) => c.startsWith('cc_session='))!;
        expect(set.split(';').map((a) => a.trim().toLowerCase())).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax']));
        expect((await fetch(`${https.base}/api/me`, { headers: { cookie: cookie! } })).status).toBe(200);
        // A write from the public origin passes the CSRF check; logout clears the cookie with the same attributes.
        const out = await fetch(`${https.base}/api/auth/logout`, { method: 'POST', headers: { cookie: cookie!, origin: 'https://voice.example.com' } });
        expect(out.status).toBe(204);
        expect(out.headers.getSetCookie().find((c) => c.startsWith('cc_session='))).toMatch(/Secure/);
      } finally {
        await https.close();
      }
    });

    it('lives in Redis with TTL = SESSION_TTL_MS, renewed by each request (rolling); a session gone from Redis is a 401', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const { cookie } = await login(api.base, u.email, u.password);
      const key = sessionKey(cookie!);
      const ttl = await api.redis.pttl(key);
      expect(ttl).toBeGreaterThan(590_000);
      expect(ttl).toBeLessThanOrEqual(600_000);
      const stored = JSON.parse((await api.redis.get(key))!);
      expect(stored).toMatchObject({ userId: u.id });
      await api.redis.pexpire(key, 5_000);
      expect((await me(cookie)).status).toBe(200);
      expect(await api.redis.pttl(key)).toBeGreaterThan(590_000);
      // Expiry: Redis drops the key when its TTL runs out (simulated by a 1 ms TTL).
      await api.redis.pexpire(key, 1);
      for (let i = 0; i < 50 && (await api.redis.exists(key)); i++) await new Promise((r) => setTimeout(r, 5));
      const res = await me(cookie);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });

    it('session fixation: a session id planted before login is never the logged-in one', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const planted = 'planted-session-id-0123456789abcdef';
      const cookie = { originalMaxAge: 600_000, expires: new Date(Date.now() + 600_000).toISOString(), httpOnly: true, path: '/api', sameSite: 'lax' };
      await api.redis.set(`${api.prefix}:sess:${planted}`, JSON.stringify({ cookie }), 'EX', 600);
      const plantedCookie = signedSessionCookie(planted);
      const { res, cookie: after } = await login(api.base, u.email, u.password, { cookie: plantedCookie });
      expect(res.status).toBe(200);
      expect(sessionIdOf(after!)).not.toBe(planted);
      expect(await api.redis.exists(`${api.prefix}:sess:${planted}`)).toBe(0);
      expect((await me(plantedCookie)).status).toBe(401);
      expect((await me(after)).status).toBe(200);
    });

    it('session fixation: logging in again (as another user) on a live session gets a new id; the old one is dead', async () => {
      const a = await createTestUser(api.accounts, 'viewer', 'fix-a');
      const b = await createTestUser(api.accounts, 'admin', 'fix-b');
      const first = (await login(api.base, a.email, a.password)).cookie!;
      const second = (await login(api.base, b.email, b.password, { cookie: first })).cookie!;
      expect(sessionIdOf(second)).not.toBe(sessionIdOf(first));
      expect((await me(first)).status).toBe(401);
      expect((await json(await me(second))).principal).toMatchObject({ id: b.id, role: 'admin' });
    });

    it('a forged (badly signed) cookie is ignored: 401', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const { cookie } = await login(api.base, u.email, u.password);
      const forged = signedSessionCookie(sessionIdOf(cookie!), 'another-secret-0123456789-abcdefgh');
      expect((await me(forged)).status).toBe(401);
    });
  });

  describe('POST /api/auth/logout', () => {
    it('204, destroys the session in Redis and clears the cookie; the old cookie is then a 401', async () => {
      const u = await createTestUser(api.accounts, 'viewer');
      const { cookie } = await login(api.base, u.email, u.password);
      const key = sessionKey(cookie!);
      const res = await fetch(`${api.base}/api/auth/logout`, { method: 'POST', headers: { cookie: cookie!, origin: ORIGIN } });
      expect(res.status).toBe(204);
      expect(res.headers.getSetCookie().find((c) => c.startsWith('cc_session='))).toMatch(/^cc_session=;.*Expires=Thu, 01 Jan 1970/);
      expect(await api.redis.exists(key)).toBe(0);
      expect((await me(cookie)).status).toBe(401);
    });
  });

  describe('CSRF (cookie-authenticated writes)', () => {
    let cookie: string;
    const newUser = (headers: Record<string, string>) =>
      fetch(`${api.base}/api/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, ...headers },
        body: JSON.stringify({ email: `csrf-${Date.now()}-${Math.random().toString(36).slice(2)}@test.example`, password: 'another good passphrase', role: 'viewer' }),
      });

    beforeAll(async () => {
      const admin = await createTestUser(api.accounts, 'admin', 'csrf-admin');
      cookie = (await login(api.base, admin.email, admin.password)).cookie!;
    });

    it.each([
      ['no Origin or Referer', {}],
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['Origin null', { origin: 'null' }],
      ['a foreign Referer', { referer: 'https://evil.example/page' }],
      ['the right host on another scheme', { origin: 'https://dashboard.test' }],
    ])('403 with %s', async (_label, headers) => {
      const res = await newUser(headers);
      expect(res.status).toBe(403);
      expect((await json(res)).error).toMatch(/cross-site request check failed/);
    });

    it('passes with the PUBLIC_BASE_URL origin, the server’s own origin, or a same-origin Referer', async () => {
      expect((await newUser({ origin: ORIGIN })).status).toBe(201);
      expect((await newUser({ origin: api.base })).status).toBe(201);
      expect((await newUser({ referer: `${ORIGIN}/users/new` })).status).toBe(201);
    });

    it('does not apply to reads or to bearer-authenticated writes', async () => {
      expect((await fetch(`${api.base}/api/users`, { headers: { cookie } })).status).toBe(200);
      const res = await fetch(`${api.base}/api/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ name: 'no csrf for bearer', role: 'viewer' }),
      });
      expect(res.status).toBe(201);
    });
  });

  it('401 without any credentials, with Cache-Control: no-store', async () => {
    const res = await fetch(`${api.base}/api/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await json(res)).error).toMatch(/log in/);
    expect(sessionCookie(res)).toBeNull();
  });
});
