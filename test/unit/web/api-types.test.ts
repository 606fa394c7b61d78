import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');
const run = promisify(execFile);

/**
 * The dashboard's API types (web/src/api/schema.d.ts, committed) are what openapi-typescript makes of the OpenAPI
 * document the server serves now: a route or schema change without `npm run gen:api-types` fails here, and a UI that
 * does not follow the regenerated types fails `npm run typecheck:web`. The generator runs in a child process
 * (openapi-typescript's dependencies are ES modules, which Jest's CommonJS runtime does not load).
 */
describe('web/src/api/schema.d.ts', () => {
  it('is up to date with the server route table (else run npm run gen:api-types)', async () => {
    const check = await run(process.execPath, ['--import', 'tsx', 'scripts/gen-api-types.ts', '--check'], { cwd: ROOT }).then(
      () => 'up to date',
      (err: { stderr?: string }) => err.stderr ?? 'failed',
    );
    expect(check).toBe('up to date');
    // The file describes the routes the dashboard uses (a generator that wrote nothing would fail here).
    const committed = readFileSync(join(ROOT, 'web', 'src', 'api', 'schema.d.ts'), 'utf8');
    for (const p of ['"/api/auth/login"', '"/api/me"', '"/api/calls"', '"/api/agents/{id}"']) expect(committed).toContain(p);
  });
});
