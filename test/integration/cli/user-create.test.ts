import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Knex } from 'knex';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { uniqueEmail } from '../../helpers/auth-api';
import { verifyPassword } from '../../../src/http/auth/passwords';

const ROOT = path.resolve(__dirname, '../../..');

/** Runs `tsx src/cli/user-create.ts <args>` in its own process group with `stdin` piped in; resolves its exit code and output. */
function runUserCreate(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'src/cli/user-create.ts'), ...args], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, DATABASE_URL: testDatabaseUrl(), NODE_ENV: 'development', LOG_LEVEL: 'silent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(stdin);
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 45_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run user:create', () => {
  let db: Knex;

  beforeAll(async () => {
    db = await setupTestDb();
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('creates the user from a password on stdin, prints its id and never the password', async () => {
    const email = uniqueEmail('cli');
    const password = 'a strong cli passphrase';
    const r = await runUserCreate(['--email', email.toUpperCase(), '--role', 'admin'], `${password}\n`);
    expect(r.code).toBe(0);
    const m = /^created user ([0-9a-f-]{36}) \((\S+), admin\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(email);
    expect(r.stdout + r.stderr).not.toContain(password);
    const row = await db('users').where({ id: m![1] }).first();
    expect(row).toMatchObject({ email, role: 'admin', disabled_at: null });
    expect(await verifyPassword(row.password_hash, password)).toBe(true); // the trailing newline is not part of it
    const [audit] = await db('audit_log').where({ entity_type: 'user', entity_id: m![1] });
    expect(audit).toMatchObject({ action: 'user.create', actor_kind: 'bootstrap', actor_id: 'cli' });

    const again = await runUserCreate(['--email', email, '--role', 'viewer'], password);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  }, 60_000);

  it.each([
    ['a short password', ['--role', 'viewer'], 'short\n', /at least 12 characters/],
    ['a trivial password', ['--role', 'viewer'], 'aaaaaaaaaaaaaaaa\n', /different characters/],
    ['no password', ['--role', 'viewer'], '', /no password on stdin/],
    ['an unknown role', ['--role', 'root'], 'a strong cli passphrase\n', /--role/],
  ])('refuses %s (exit 1, nothing created)', async (_label, args, stdin, message) => {
    const email = uniqueEmail('cli-bad');
    const r = await runUserCreate(['--email', email, ...args], stdin);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(await db('users').where({ email }).first()).toBeUndefined();
  }, 60_000);
});
