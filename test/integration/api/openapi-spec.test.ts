import type { Knex } from 'knex';
import pino from 'pino';
import { z } from 'zod';
import { listen } from '../../helpers/http';
import { serveRoutes } from '../../helpers/api-app';
import { checkExamples, checkSpecCovers } from '../../helpers/openapi-check';
import { agentRoutes } from '../../../src/http/api/agents';
import { auditRoutes } from '../../../src/http/api/audit';
import { docsRouter, docsRoutes } from '../../../src/http/api/docs';
import { knowledgeDocRoutes } from '../../../src/http/api/knowledge-docs';
import { openApiDocument } from '../../../src/http/api/openapi';
import { phoneNumberRoutes } from '../../../src/http/api/phone-numbers';
import { defineRoute, type ApiRoute } from '../../../src/http/api/route';
import { createApp } from '../../../src/http/app';

// Route tables touch the database only when a request comes; building the spec needs none.
const db = {} as Knex;
const INFO = { title: 'Call center API', version: 'test' };

describe('OpenAPI document of the agents, phone numbers, audit, docs and knowledge routes', () => {
  let doc: ReturnType<typeof openApiDocument>;
  const routes: ApiRoute<any, any, any>[] = [
    ...agentRoutes({ db }),
    ...phoneNumberRoutes({ db }),
    ...auditRoutes({ db }),
    ...docsRoutes(() => doc),
    ...knowledgeDocRoutes(),
  ];

  beforeAll(() => {
    doc = openApiDocument(routes, INFO);
  });

  it('builds a 3.1 document with every route, its method, path and role, and nothing else', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(checkSpecCovers(routes, doc)).toEqual([]);
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining(['/api/agents', '/api/agents/{id}', '/api/agents/{id}/archive', '/api/phone-numbers/{number}', '/api/audit', '/api/openapi.json', '/api/agents/{agentId}/knowledge/{docId}']),
    );
    // The multipart upload is documented beside the JSON one.
    expect(Object.keys((doc.paths!['/api/agents/{agentId}/knowledge'] as any).post.requestBody.content)).toEqual(['application/json', 'multipart/form-data']);
  });

  it('every example in the document validates against its zod schema', () => {
    expect(checkExamples(routes, doc)).toEqual([]);
    // The checks did look at examples: the routes and the components carry some.
    expect(routes.filter((r) => r.examples?.body !== undefined).length).toBeGreaterThanOrEqual(4);
    expect(Object.values(doc.components?.schemas ?? {}).filter((s: any) => s.example !== undefined).length).toBeGreaterThanOrEqual(4);
  });

  it('the checks report what is wrong', () => {
    const bad = defineRoute({
      method: 'post',
      path: '/api/things/:id',
      role: 'supervisor',
      tag: 'things',
      summary: 'x',
      body: z.strictObject({ n: z.number() }),
      responses: { 201: { description: 'ok', schema: z.object({ id: z.string() }) } },
      examples: { body: { n: 'one' as unknown as number }, response: { id: 7 } },
      handler: () => undefined,
    });
    const badDoc = openApiDocument([bad], INFO);
    expect(checkExamples([bad])).toEqual([expect.stringMatching(/^POST \/api\/things\/:id: body example: n: /), expect.stringMatching(/response example: id: /)]);
    expect(checkSpecCovers([bad], doc)).toContain('POST /api/things/:id: not in the spec');
    expect(checkSpecCovers(routes, badDoc)).toContain('POST /api/things/{id}: in the spec but not a route');
    expect(checkSpecCovers([{ ...bad, role: 'admin' }], badDoc)).toEqual(['POST /api/things/:id: x-required-role supervisor ≠ admin']);
    const withStray = { ...badDoc, paths: { '/x': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'string', example: 3 } } } } } } } } };
    expect(checkExamples([], withStray as any)).toEqual([expect.stringMatching(/schema\.example: an example no check covers/)]);
  });

  it('documented-only routes (the knowledge router serves them) are not mounted by the route table', async () => {
    const srv = await serveRoutes(knowledgeDocRoutes());
    try {
      const res = await fetch(`${srv.base}/api/agents/a1/knowledge`, { headers: srv.as('admin') });
      expect(res.status).toBe(404);
    } finally {
      await srv.close();
    }
  });

  it('GET /api/openapi.json serves the document to any authenticated role', async () => {
    const srv = await serveRoutes(docsRoutes(() => doc));
    try {
      const res = await fetch(`${srv.base}/api/openapi.json`, { headers: srv.as('viewer') });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
      expect((await fetch(`${srv.base}/api/openapi.json`)).status).toBe(401);
    } finally {
      await srv.close();
    }
  });
});

describe('API reference page (/api/docs)', () => {
  let srv: { base: string; close: () => Promise<void> };

  beforeAll(async () => {
    // The real app (helmet's default CSP on every response) with the docs router mounted.
    srv = await listen(createApp({ logger: pino({ level: 'silent' }), routers: [docsRouter()] }));
  });
  afterAll(() => srv.close());

  it('redirects /api/docs to /api/docs/ (relative asset URLs) and never serves the petstore index.html', async () => {
    for (const path of ['/api/docs', '/api/docs/index.html']) {
      const res = await fetch(`${srv.base}${path}`, { redirect: 'manual' });
      expect([path, res.status, res.headers.get('location')]).toEqual([path, 301, '/api/docs/']);
    }
    expect((await fetch(`${srv.base}/api/docs/package.json`)).status).toBe(404);
  });

  it('serves the page with only same-origin scripts, a CSP without inline scripts, and every asset locally', async () => {
    const res = await fetch(`${srv.base}/api/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = Object.fromEntries(
      res.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['script-src-attr']).toEqual(["'none'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['default-src']).toEqual(["'self'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);

    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src=/); // no inline script: 'self' would block it
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers (script-src-attr 'none')
    const urls = [...html.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) {
      expect(url).not.toMatch(/^(https?:)?\/\//); // nothing from a CDN: works offline
      const asset = await fetch(new URL(url, `${srv.base}/api/docs/`));
      expect([url, asset.status]).toEqual([url, 200]);
      await asset.arrayBuffer();
    }
  });

  it('the generated init script reads /api/openapi.json and calls no validator service', async () => {
    const res = await fetch(`${srv.base}/api/docs/swagger-ui-init.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    const js = await res.text();
    expect(js).toContain('"swaggerUrl": "/api/openapi.json"');
    expect(js).toMatch(/"validatorUrl": null/);
    expect(js).not.toMatch(/petstore|https?:\/\//);
  });
});
