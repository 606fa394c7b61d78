import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { DEMO_ADMIN_EMAIL, ensureDemoAdmin } from '../../../src/cli/demo-admin';
import { verifyPassword } from '../../../src/http/auth/passwords';

describe('npm run demo: the demo admin', () => {
  let db: Knex;

  beforeAll(async () => {
    db = await setupTestDb();
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('is created once, enabled admin; every run rotates to a new random password (the old one stops working)', async () => {
    const first = await ensureDemoAdmin(db);
    expect(first.email).toBe(DEMO_ADMIN_EMAIL);
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    // Someone disabled and demoted it meanwhile: the next run repairs it.
    await db('users').where({ id: first.id }).update({ role: 'viewer', disabled_at: db.fn.now() });
    const second = await ensureDemoAdmin(db);
    expect(second).toMatchObject({ id: first.id, created: false });
    expect(second.password).not.toBe(first.password);
    const rows = await db('users').where({ email: DEMO_ADMIN_EMAIL });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: 'admin', disabled_at: null });
    expect(await verifyPassword(rows[0].password_hash, second.password)).toBe(true);
    expect(await verifyPassword(rows[0].password_hash, first.password)).toBe(false);
    const audit = await db('audit_log').where({ entity_type: 'user', entity_id: first.id }).orderBy('id');
    expect(JSON.stringify(audit)).not.toContain(second.password);
  });
});
