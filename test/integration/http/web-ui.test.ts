import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { startTestApi, type TestApi } from '../../helpers/auth-api';
import { createWebUiRouter } from '../../../src/http/routes/web-ui';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const HTML = { accept: 'text/html,application/xhtml+xml' };

/** The CSP directives of a header value, by name. */
function directives(csp: string | null): Record<string, string[]> {
  return Object.fromEntries((csp ?? '').split(';').map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map(([name, ...v]) => [name, v]));
}

/**
 * The dashboard at `/` behind the real API router (startTestApi): files, client-route fallback to index.html, the
 * CSP, and the server paths it must never answer for.
 */
describe('the dashboard router (createWebUiRouter)', () => {
  let db: Knex;
  let api: TestApi;
  let missing: TestApi;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    db = await setupTestDb();
    api = await startTestApi({ db, extraRouters: [createWebUiRouter({ dir })] });
    missing = await startTestApi({ db, extraRouters: [createWebUiRouter({ dir: join(dir, 'not-built') })] });
  });

  afterAll(async () => {
    await api?.close();
    await missing?.close();
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict CSP (no inline script, no eval, same-origin connections)', async () => {
    const res = await fetch(`${api.base}/`, { headers: HTML });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp['default-src']).toEqual(["'self'"]);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['media-src']).toEqual(["'self'", 'blob:']);
    expect(csp['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
  });

  it('answers client-side routes (deep links, reloads) with index.html', async () => {
    for (const path of ['/calls', '/calls/CA0123456789abcdef', '/agents/new', '/settings/api-keys']) {
      const res = await fetch(`${api.base}${path}`, { headers: HTML });
      expect([path, res.status]).toEqual([path, 200]);
      expect(await res.text()).toBe(INDEX);
    }
  });

  it('serves hashed assets with a year-long immutable cache, other files no-cache', async () => {
    const js = await fetch(`${api.base}/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const icon = await fetch(`${api.base}/favicon.svg`);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
    // A missing asset is a 404, not index.html (a stale chunk must fail loudly, not parse HTML as JS).
    const gone = await fetch(`${api.base}/assets/index-gone.js`, { headers: HTML });
    expect(gone.status).toBe(404);
  });

  it('never swallows server paths: /api answers 401 JSON, unknown server paths 404 JSON', async () => {
    const unauth = await fetch(`${api.base}/api/x`, { headers: HTML });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('content-type')).toMatch(/json/);
    for (const path of ['/api', '/twilio/nothing', '/metrics', '/healthz/x', '/readyz/x']) {
      const res = await fetch(`${api.base}${path}`, { headers: HTML });
      expect([path, res.status === 200 && (await res.clone().text()) === INDEX]).toEqual([path, false]);
      expect([path, res.headers.get('content-type')]).toEqual([path, expect.stringMatching(/json/)]);
    }
  });

  it('does not answer a non-HTML request or a non-GET with index.html', async () => {
    const json = await fetch(`${api.base}/calls`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    const post = await fetch(`${api.base}/calls`, { method: 'POST', headers: HTML });
    expect(post.status).toBe(404);
  });

  it('says the dashboard is not built (503) when the build is missing', async () => {
    const res = await fetch(`${missing.base}/calls`, { headers: HTML });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build/);
  });
});
