import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { auditEntrySchema, auditRoutes } from '../../../src/http/api/audit';
import { AuditRepo } from '../../../src/db/audit';
import type { Role } from '../../../src/http/auth/principal';

describe('audit API (GET /api/audit)', () => {
  let db: Knex;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  // A fresh entity type per run isolates these entries from every other test's.
  const type = uniqueSid('t_').toLowerCase();
  const alice = { kind: 'user' as const, id: uniqueSid('u-'), label: 'alice@example.com' };
  const key = { kind: 'api_key' as const, id: uniqueSid('k-'), label: 'crm' };

  const get = async (query: string, role: Role | null = 'admin') => {
    const res = await fetch(`${srv.base}/api/audit?${query}`, { headers: role ? srv.as(role) : {} });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await setupTestDb();
    srv = await serveRoutes(auditRoutes({ db }));
    const audit = new AuditRepo(db);
    // Five entries, one a day from 2031-01-01, alternating actors; entity e1 for the first three.
    for (let i = 1; i <= 5; i++) {
      await audit.record({ actor: i % 2 ? alice : key, action: `${type}.update`, entityType: type, entityId: i <= 3 ? 'e1' : 'e2', before: { n: i - 1, secret: 'whsec_abc' }, after: { n: i } });
    }
    const ids = (await db('audit_log').where({ entity_type: type }).orderBy('id')).map((r) => r.id);
    for (const [i, id] of ids.entries()) await db('audit_log').where({ id }).update({ at: new Date(Date.UTC(2031, 0, 1 + i)) });
  });
  afterAll(async () => {
    await srv.close();
    await db.destroy();
  });

  it('admin only: viewers and supervisors get 403, no principal 401', async () => {
    expect((await get(`entityType=${type}`, 'viewer')).status).toBe(403);
    expect((await get(`entityType=${type}`, 'supervisor')).status).toBe(403);
    expect((await get(`entityType=${type}`, null)).status).toBe(401);
    expect((await get(`entityType=${type}`, 'admin')).status).toBe(200);
  });

  it('lists newest first, in the documented shape, secrets redacted', async () => {
    const { body } = await get(`entityType=${type}`);
    expect(body.entries.map((e: { after: { n: number } }) => e.after.n)).toEqual([5, 4, 3, 2, 1]);
    expect(body.nextCursor).toBeNull();
    for (const e of body.entries) expect(auditEntrySchema.safeParse(e).success).toBe(true);
    expect(body.entries[4]).toMatchObject({ actor: alice, action: `${type}.update`, entityType: type, entityId: 'e1', at: '2031-01-01T00:00:00.000Z', before: { n: 0, secret: '[redacted]' } });
    expect(JSON.stringify(body)).not.toContain('whsec_abc');
  });

  it.each([
    ['entityId', `entityId=e1`, [3, 2, 1]],
    ['actorId', `actorId=${key.id}`, [4, 2]],
    ['from (inclusive)', `from=2031-01-03T00:00:00Z`, [5, 4, 3]],
    ['to (exclusive)', `to=2031-01-03T00:00:00Z`, [2, 1]],
    ['from + to + entityId', `from=2031-01-02T00:00:00Z&to=2031-01-05T00:00:00%2B00:00&entityId=e1`, [3, 2]],
  ])('filters by %s', async (_label, q, ns) => {
    const { body } = await get(`entityType=${type}&${q}`);
    expect(body.entries.map((e: { after: { n: number } }) => e.after.n)).toEqual(ns);
  });

  it('pages with limit and cursor, without gaps or repeats', async () => {
    const seen: number[][] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: any } = await get(`entityType=${type}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(body.entries.map((e: { after: { n: number } }) => e.after.n));
      cursor = body.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([[5, 4], [3, 2], [1]]);
  });

  it.each([
    ['a cursor that is not a nextCursor', 'cursor=abc', 'query.cursor'],
    ['limit 0', 'limit=0', 'query.limit'],
    ['limit 201', 'limit=201', 'query.limit'],
    ['a time without an offset', 'from=2031-01-01T00:00:00', 'query.from'],
    ['from after to', 'from=2031-01-03T00:00:00Z&to=2031-01-02T00:00:00Z', 'query.to'],
    ['an unknown parameter', 'action=agent.update', 'query'],
  ])('400 for %s', async (_label, q, path) => {
    const { status, body } = await get(`entityType=${type}&${q}`);
    expect(status).toBe(400);
    expect(body.issues.map((i: { path: string }) => i.path)).toContain(path);
  });
});
