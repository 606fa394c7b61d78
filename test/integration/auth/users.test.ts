import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { createTestUser, GOOD_PASSWORD, login, startTestApi, TEST_API_KEY, uniqueEmail, type TestApi } from '../../helpers/auth-api';

const json = (res: Response): Promise<any> => res.json();

describe('/api/users', () => {
  let db: Knex;
  let api: TestApi;
  const ORIGIN = 'http://dashboard.test';
  const admin = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) =>
    fetch(`${api.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const me = (cookie: string) => fetch(`${api.base}/api/me`, { headers: { cookie } });

  beforeAll(async () => {
    db = await setupTestDb();
    api = await startTestApi({ db });
  });

  afterAll(async () => {
    await api?.close();
    await db?.destroy();
  });

  it('create → 201 with Location; get; list; the email is stored lower-case; nothing shows a hash', async () => {
    const email = uniqueEmail('Create').toUpperCase();
    const res = await call('POST', '/api/users', { email, password: GOOD_PASSWORD, role: 'supervisor' });
    expect(res.status).toBe(201);
    const { user } = await json(res);
    expect(user).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      role: 'supervisor',
      disabled: false,
      disabledAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      lastLoginAt: null,
    });
    expect(res.headers.get('location')).toBe(`/api/users/${user.id}`);
    expect(await json(await call('GET', `/api/users/${user.id}`))).toEqual({ user });
    const listText = await (await call('GET', '/api/users')).text();
    expect(JSON.parse(listText).users).toContainEqual(user);
    expect(listText).not.toMatch(/argon2|password/i);
    expect((await login(api.base, email, GOOD_PASSWORD)).res.status).toBe(200);
  });

  it('409 for a duplicate email (whatever its case)', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const res = await call('POST', '/api/users', { email: u.email.toUpperCase(), password: GOOD_PASSWORD, role: 'viewer' });
    expect(res.status).toBe(409);
    expect((await json(res)).error).toMatch(/already exists/);
  });

  it.each([
    ['a short password', { password: 'short pass' }, 'body.password', /at least 12/],
    ['a trivial password', { password: 'aaaaaaaaaaaaaaaa' }, 'body.password', /different characters/],
    ['a sequence', { password: 'abcdefghijklmnop' }, 'body.password', /too easy/],
    ['an unknown role', { role: 'root' }, 'body.role', /./],
    ['a bad email', { email: 'not-an-email' }, 'body.email', /email/],
    ['an unknown field', { isAdmin: true }, 'body', /isAdmin/],
  ])('400 { error, issues } for %s', async (_label, patch, path, message) => {
    const res = await call('POST', '/api/users', { email: uniqueEmail('bad'), password: GOOD_PASSWORD, role: 'viewer', ...patch });
    expect(res.status).toBe(400);
    const body = await json(res);
    const issue = body.issues.find((i: any) => i.path === path);
    expect(issue).toBeDefined();
    expect(body.error).toMatch(message);
  });

  it('400 for a malformed id, 404 for an unknown one, 400 for an empty PATCH', async () => {
    expect((await call('GET', '/api/users/42')).status).toBe(400);
    expect((await call('GET', '/api/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('PATCH', '/api/users/00000000-0000-4000-8000-000000000000', { role: 'viewer' })).status).toBe(404);
    expect((await call('DELETE', '/api/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const u = await createTestUser(api.accounts, 'viewer');
    const empty = await call('PATCH', `/api/users/${u.id}`, {});
    expect(empty.status).toBe(400);
    expect((await json(empty)).error).toMatch(/at least one/);
  });

  it('PATCH role applies to live sessions at once (the role is read fresh)', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const { cookie } = await login(api.base, u.email, u.password);
    expect((await json(await me(cookie!))).principal.role).toBe('viewer');
    const res = await call('PATCH', `/api/users/${u.id}`, { role: 'supervisor' });
    expect(res.status).toBe(200);
    expect((await json(res)).user.role).toBe('supervisor');
    expect((await json(await me(cookie!))).principal.role).toBe('supervisor');
  });

  it('PATCH password ends the user’s sessions; the new password works, the old one does not', async () => {
    const u = await createTestUser(api.accounts, 'viewer');
    const { cookie } = await login(api.base, u.email, u.password);
    expect((await call('PATCH', `/api/users/${u.id}`, { password: 'a brand new passphrase' })).status).toBe(200);
    expect((await me(cookie!)).status).toBe(401);
    expect((await login(api.base, u.email, u.password)).res.status).toBe(401);
    expect((await login(api.base, u.email, 'a brand new passphrase')).res.status).toBe(200);
  });

  it('DELETE disables: 204, sessions stop working, login fails; re-enabling does not revive old sessions', async () => {
    const u = await createTestUser(api.accounts, 'supervisor');
    const { cookie } = await login(api.base, u.email, u.password);
    expect((await me(cookie!)).status).toBe(200);
    expect((await call('DELETE', `/api/users/${u.id}`)).status).toBe(204);
    expect((await me(cookie!)).status).toBe(401);
    expect((await login(api.base, u.email, u.password)).res.status).toBe(401);
    const got = (await json(await call('GET', `/api/users/${u.id}`))).user;
    expect(got).toMatchObject({ disabled: true, disabledAt: expect.any(String) });
    expect((await call('DELETE', `/api/users/${u.id}`)).status).toBe(204);
    expect((await call('PATCH', `/api/users/${u.id}`, { disabled: false })).status).toBe(200);
    expect((await me(cookie!)).status).toBe(401);
    expect((await login(api.base, u.email, u.password)).res.status).toBe(200);
  });

  it('non-admins get 403 on /api/users (session and key)', async () => {
    const s = await createTestUser(api.accounts, 'supervisor');
    const { cookie } = await login(api.base, s.email, s.password);
    expect((await fetch(`${api.base}/api/users`, { headers: { cookie: cookie! } })).status).toBe(403);
    const res = await fetch(`${api.base}/api/users`, {
      method: 'POST',
      headers: { cookie: cookie!, origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail('x'), password: GOOD_PASSWORD, role: 'admin' }),
    });
    expect(res.status).toBe(403);
  });

  it('the last enabled admin cannot be demoted or disabled (409); with a second admin it can', async () => {
    // Make the admins of this test the only enabled ones (other files' admins in this database are test leftovers).
    await db('users').where({ role: 'admin' }).whereNull('disabled_at').update({ disabled_at: db.fn.now() });
    const a = await createTestUser(api.accounts, 'admin', 'last-a');
    const { cookie } = await login(api.base, a.email, a.password);
    const asA = { cookie: cookie!, origin: ORIGIN, 'content-type': 'application/json' };
    const demote = await call('PATCH', `/api/users/${a.id}`, { role: 'supervisor' }, asA);
    expect(demote.status).toBe(409);
    expect((await json(demote)).error).toMatch(/no enabled admin/);
    expect((await call('PATCH', `/api/users/${a.id}`, { disabled: true }, asA)).status).toBe(409);
    expect((await call('DELETE', `/api/users/${a.id}`)).status).toBe(409);
    expect((await call('PATCH', `/api/users/${a.id}`, { password: 'still the admin here' })).status).toBe(200);

    const b = await createTestUser(api.accounts, 'admin', 'last-b');
    // Two concurrent demotions: exactly one may pass.
    const both = await Promise.all([call('PATCH', `/api/users/${a.id}`, { role: 'viewer' }), call('PATCH', `/api/users/${b.id}`, { role: 'viewer' })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const admins = await db('users').where({ role: 'admin' }).whereNull('disabled_at');
    expect(admins).toHaveLength(1);
  });

  it('every change is audited in its transaction, with the actor, and without passwords or hashes', async () => {
    const email = uniqueEmail('audit');
    const { user } = await json(await call('POST', '/api/users', { email, password: GOOD_PASSWORD, role: 'viewer' }));
    await call('PATCH', `/api/users/${user.id}`, { role: 'supervisor', password: 'the second passphrase' });
    await call('DELETE', `/api/users/${user.id}`);
    const entries = await db('audit_log').where({ entity_type: 'user', entity_id: user.id }).orderBy('id');
    expect(entries.map((e) => e.action)).toEqual(['user.create', 'user.update', 'user.disable']);
    for (const e of entries) expect(e).toMatchObject({ actor_kind: 'bootstrap', actor_id: 'bootstrap', actor_label: 'API_KEY' });
    expect(entries[0].after).toMatchObject({ email, role: 'viewer' });
    expect(entries[1].before).toMatchObject({ role: 'viewer' });
    expect(entries[1].after).toMatchObject({ role: 'supervisor', passwordChanged: true });
    expect(entries[2].after).toMatchObject({ disabled: true });
    const hash = (await db('users').where({ id: user.id }).first()).password_hash;
    const text = JSON.stringify(entries);
    for (const secret of [GOOD_PASSWORD, 'the second passphrase', hash, '$argon2']) expect(text).not.toContain(secret);
  });
});
