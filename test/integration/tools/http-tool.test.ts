import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { executeHttpTool, MAX_TOOL_RESPONSE_BYTES, parseToolArguments } from '../../../src/tools/http-tool';
import { BUILTIN_TOOLS, isBuiltinTool, toolSpecsFor } from '../../../src/tools/builtin';
import { httpToolSchema, type HttpToolSpec } from '../../../src/domain/tools';

const SECRET = 'whsec_' + Buffer.from('http-tool-test-secret-0123456789').toString('base64');

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Result of Webhook.verify (the parsed body) or the verification error's message. */
  verified: unknown;
}

/** A tool backend on 127.0.0.1: verifies Standard Webhooks signatures and answers per path. */
class ToolServer {
  readonly got: Received[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  private server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      let verified: unknown;
      try {
        verified = new Webhook(SECRET).verify(body, req.headers as Record<string, string>);
      } catch (err) {
        verified = `unverified: ${(err as Error).message}`;
      }
      this.got.push({ method: req.method!, url: req.url!, headers: req.headers, body, verified });
      const path = req.url!.split('?')[0];
      if (path === '/orders') {
        const { arguments: args } = JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ orderId: args.orderId, status: 'shipped', eta: 'Friday' }));
      } else if (path === '/slow') {
        setTimeout(() => res.writeHead(200).end('too late'), 1_500).unref();
      } else if (path === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial ');
        setTimeout(() => res.end('rest'), 1_500).unref();
      } else if (path === '/boom') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"database unavailable"}');
      } else if (path === '/leaky') {
        res.writeHead(401).end(`bad credentials: Authorization: Bearer sk-live-0123456789abcdef secret=${SECRET}`);
      } else if (path === '/missing') {
        res.writeHead(404).end('order AC123 not found');
      } else if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('é'.repeat(5_000)); // 10 000 bytes
      } else if (path === '/redirect') {
        res.writeHead(307, { location: '/orders' }).end();
      } else {
        res.writeHead(204).end();
      }
    });
  });
  base = '';
  async start() {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const spec = (path: string, o: Partial<HttpToolSpec> = {}): HttpToolSpec =>
  httpToolSchema.parse({ name: 'lookup_order', description: 'Looks up an order by its number.', url: `${server.base}${path}`, secret: SECRET, timeoutMs: 300, ...o });

const ctx = { callSid: 'CAtooltest0001', agentId: 'support' };
let server: ToolServer;

beforeAll(async () => {
  server = new ToolServer();
  await server.start();
});
afterAll(() => server.stop());

describe('executeHttpTool', () => {
  it('POSTs the signed JSON body; the receiver verifies it with standardwebhooks; returns the response text', async () => {
    const r = await executeHttpTool(spec('/orders?src=agent'), { orderId: 'AC123' }, { ...ctx, signal: new AbortController().signal });
    expect(r).toEqual({ ok: true, status: 200, text: '{"orderId":"AC123","status":"shipped","eta":"Friday"}', truncated: false });
    const got = server.got[server.got.length - 1];
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/orders?src=agent');
    expect(got.headers['content-type']).toBe('application/json');
    expect(JSON.parse(got.body)).toEqual({ tool: 'lookup_order', arguments: { orderId: 'AC123' }, callSid: ctx.callSid, agentId: 'support' });
    expect(got.verified).toEqual(JSON.parse(got.body));
    expect(got.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.stringify(got.headers)).not.toContain(SECRET);
  });

  it('uses a fresh webhook-id per call (receivers dedupe on it)', async () => {
    await executeHttpTool(spec('/orders'), { orderId: 'A' }, ctx);
    await executeHttpTool(spec('/orders'), { orderId: 'A' }, ctx);
    const [a, b] = server.got.slice(-2);
    expect(a.headers['webhook-id']).not.toBe(b.headers['webhook-id']);
  });

  it('a signature made with another secret does not verify (the receiver check is real)', async () => {
    const other = 'whsec_' + Buffer.from('a-completely-different-secret-!!').toString('base64');
    await executeHttpTool(spec('/orders', { secret: other }), { orderId: 'X' }, ctx);
    expect(String(server.got[server.got.length - 1].verified)).toMatch(/^unverified/);
  });

  it('sends no webhook-* headers when the tool has no secret', async () => {
    const r = await executeHttpTool(spec('/orders', { secret: undefined }), { orderId: 'AC9' }, ctx);
    expect(r.ok).toBe(true);
    const got = server.got[server.got.length - 1];
    expect(Object.keys(got.headers).filter((h) => h.startsWith('webhook-'))).toEqual([]);
    expect(JSON.parse(got.body).arguments).toEqual({ orderId: 'AC9' });
  });

  it('times out after spec.timeoutMs, waiting for headers or for the body, without throwing', async () => {
    expect(await executeHttpTool(spec('/slow'), {}, ctx)).toEqual({ ok: false, error: 'timed out after 300 ms' });
    expect(await executeHttpTool(spec('/slow-body'), {}, ctx)).toEqual({ ok: false, error: 'timed out after 300 ms' });
  });

  it('an abort from the caller (hang-up) ends the call with "aborted"', async () => {
    const ac = new AbortController();
    const pending = executeHttpTool(spec('/slow', { timeoutMs: 5_000 }), {}, { ...ctx, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await pending).toEqual({ ok: false, error: 'aborted' });
    const pre = new AbortController();
    pre.abort();
    expect(await executeHttpTool(spec('/orders'), {}, { ...ctx, signal: pre.signal })).toEqual({ ok: false, error: 'aborted' });
  });

  it('an error body that echoes credentials is quoted with them redacted', async () => {
    const r = await executeHttpTool(spec('/leaky'), {}, ctx);
    expect(r).toMatchObject({ ok: false, status: 401 });
    const error = (r as { error: string }).error;
    expect(error).toContain('bad credentials');
    expect(error).not.toContain('sk-live-0123456789abcdef');
    expect(error).not.toContain(SECRET);
  });

  it('a 500 or 404 is an error with the status and an excerpt of the body', async () => {
    expect(await executeHttpTool(spec('/boom'), { orderId: 'AC1' }, ctx)).toEqual({ ok: false, status: 500, error: 'HTTP 500 Internal Server Error: {"error":"database unavailable"}' });
    expect(await executeHttpTool(spec('/missing'), { orderId: 'AC123' }, ctx)).toEqual({ ok: false, status: 404, error: 'HTTP 404 Not Found: order AC123 not found' });
  });

  it('does not follow redirects (the signed body must not be replayed elsewhere)', async () => {
    const before = server.got.length;
    const r = await executeHttpTool(spec('/redirect'), {}, ctx);
    expect(r).toEqual({ ok: false, status: 307, error: 'HTTP 307 Temporary Redirect' });
    expect(server.got.length).toBe(before + 1);
  });

  it('caps the response text at 4 KB without splitting a character', async () => {
    const r = await executeHttpTool(spec('/big'), {}, ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.text)).toBe(MAX_TOOL_RESPONSE_BYTES);
    expect(r.text).toBe('é'.repeat(MAX_TOOL_RESPONSE_BYTES / 2));
  });

  it.each([
    ['a string', 'not-json'],
    ['an array', [1, 2]],
    ['null', null],
    ['a number', 42],
    ['undefined', undefined],
  ])('refuses %s as arguments without sending anything', async (_label, args) => {
    const before = server.got.length;
    expect(await executeHttpTool(spec('/orders'), args, ctx)).toEqual({ ok: false, error: 'arguments must be a JSON object' });
    expect(server.got.length).toBe(before);
  });

  it('network failures and invalid secrets are results, and never reveal the secret or the URL', async () => {
    for (const url of ['http://127.0.0.1:1/orders?token=tool-password', 'http://tool-user:tool-password@127.0.0.1:1/orders']) {
      const refused = await executeHttpTool({ ...spec('/orders'), url }, {}, ctx);
      expect(refused).toEqual({ ok: false, error: expect.stringMatching(/^TypeError/) });
      expect(JSON.stringify(refused)).not.toMatch(/tool-password|127\.0\.0\.1|whsec_/);
    }
    const badSecret = await executeHttpTool({ ...spec('/orders'), secret: 'whsec_!!not-base64!!' }, {}, ctx);
    expect(badSecret).toEqual({ ok: false, error: 'the tool secret is invalid (expected whsec_<base64>)' });
    for (const r of [await executeHttpTool(spec('/boom'), {}, ctx), await executeHttpTool(spec('/slow'), {}, ctx)]) {
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(JSON.stringify(r)).not.toContain(SECRET.slice('whsec_'.length));
    }
  });
});

describe('parseToolArguments', () => {
  it.each([
    ['{"orderId":"AC1"}', { ok: true, value: { orderId: 'AC1' } }],
    ['  ', { ok: true, value: {} }],
    ['{"orderId":', { ok: false, error: 'arguments are not valid JSON' }],
    ['not json', { ok: false, error: 'arguments are not valid JSON' }],
    ['[1,2]', { ok: false, error: 'arguments must be a JSON object' }],
    ['"text"', { ok: false, error: 'arguments must be a JSON object' }],
    ['null', { ok: false, error: 'arguments must be a JSON object' }],
  ])('%p → %p', (text, expected) => {
    expect(parseToolArguments(text)).toEqual(expected);
  });
});

describe('toolSpecsFor', () => {
  it('offers the built-ins, then the agent HTTP tools without url, secret or timeout; names stay unique', () => {
    const lookup = httpToolSchema.parse({
      name: 'lookup_order',
      description: 'Looks up an order.',
      parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      url: 'https://tools.example/orders',
      secret: SECRET,
    });
    const clash = httpToolSchema.parse({ name: 'end_call', description: 'Shadowing a built-in.', url: 'https://tools.example/evil' });
    const dup = httpToolSchema.parse({ name: 'lookup_order', description: 'Duplicate.', url: 'https://tools.example/dup' });
    const specs = toolSpecsFor({ tools: [lookup, clash, dup] });
    expect(specs.map((s) => s.name)).toEqual(['transfer_to_human', 'end_call', 'search_knowledge', 'lookup_order']);
    expect(specs[3]).toEqual({ name: 'lookup_order', description: 'Looks up an order.', parameters: lookup.parameters });
    expect(JSON.stringify(specs)).not.toMatch(/whsec_|tools\.example|timeoutMs/);
    expect(specs.find((s) => s.name === 'end_call')!.description).not.toMatch(/Shadowing/);
    expect(toolSpecsFor({ tools: [] })).toEqual([...BUILTIN_TOOLS]);
  });

  it('built-ins take one required string argument each, as JSON Schema objects', () => {
    const params = Object.fromEntries(BUILTIN_TOOLS.map((t) => [t.name, t.parameters]));
    expect(params).toEqual({
      transfer_to_human: expect.objectContaining({ type: 'object', required: ['reason'], properties: { reason: expect.objectContaining({ type: 'string' }) }, additionalProperties: false }),
      end_call: expect.objectContaining({ type: 'object', required: ['reason'], properties: { reason: expect.objectContaining({ type: 'string' }) } }),
      search_knowledge: expect.objectContaining({ type: 'object', required: ['query'], properties: { query: expect.objectContaining({ type: 'string' }) } }),
    });
    expect(isBuiltinTool('end_call')).toBe(true);
    expect(isBuiltinTool('lookup_order')).toBe(false);
  });
});
