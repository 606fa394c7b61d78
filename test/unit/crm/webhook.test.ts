import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { buildCallCompletedEvent, classifyStatus, sendWebhook, signWebhook, webhookIdFor } from '../../../src/crm/webhook';
import type { CallDetail } from '../../../src/db/calls';
import { CSAT_METHOD } from '../../../src/analytics/csat';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const DETAIL: CallDetail = {
  callSid: 'CAunit0001',
  direction: 'inbound',
  from: '+14155550100',
  to: '+14155550199',
  status: 'completed',
  language: 'en',
  startedAt: '2026-01-02T10:00:00.000Z',
  endedAt: '2026-01-02T10:01:30.000Z',
  turns: [
    { role: 'agent', text: 'Hello', language: 'en', startMs: 0, endMs: 900, interrupted: true, unheardText: 'and welcome.', timings: null },
    { role: 'caller', text: 'Hi there', language: 'en', startMs: 1200, endMs: 2100, interrupted: false, unheardText: null, timings: { sttMs: 120 } },
  ],
  intent: 'greeting',
  csat: { score: 4, method: CSAT_METHOD, components: { base: 3 } },
  crmSync: { status: 'pending', attempts: 0 },
  usage: { lines: [{ provider: 'openai.chat', kind: 'llm_prompt', quantity: 400, unit: 'tokens', costUsd: 0.00006 }], costUsd: 0.00006 },
  recordingUrl: null,
  events: [{ type: 'barge_in', at: '2026-01-02T10:00:01.000Z', payload: { atMs: 1000 } }],
  analysis: { summary: 'Caller: "Hi there" The request was handled.', disposition: 'resolved', fields: { orderNumber: 'A-12345' }, method: 'local:v1', analyzedAt: '2026-01-02T10:01:40.000Z' },
};

describe('buildCallCompletedEvent', () => {
  it('maps the call detail to the call.completed event (no crmSync/direction/events/timings/unheard text/CSAT components leak)', () => {
    const e = buildCallCompletedEvent(DETAIL);
    expect(e.type).toBe('call.completed');
    expect(e.timestamp).toBe(DETAIL.endedAt);
    expect(e.data).toEqual({
      callSid: 'CAunit0001', from: '+14155550100', to: '+14155550199', language: 'en',
      turns: [
        { role: 'agent', text: 'Hello', language: 'en', startMs: 0, endMs: 900 },
        { role: 'caller', text: 'Hi there', language: 'en', startMs: 1200, endMs: 2100 },
      ],
      intent: 'greeting', csat: { score: 4, method: CSAT_METHOD }, status: 'completed', startedAt: DETAIL.startedAt, endedAt: DETAIL.endedAt,
      summary: 'Caller: "Hi there" The request was handled.', disposition: 'resolved', extractedFields: { orderNumber: 'A-12345' },
    });
  });
  it('carries nulls for summary, disposition and extracted fields when the call was not analysed', () => {
    const e = buildCallCompletedEvent({ ...DETAIL, analysis: null });
    expect(e.data).toMatchObject({ summary: null, disposition: null, extractedFields: null });
  });
  it('uses the build time when the call has no end', () => {
    const now = new Date('2026-05-05T05:05:05.000Z');
    expect(buildCallCompletedEvent({ ...DETAIL, endedAt: null }, now).timestamp).toBe(now.toISOString());
  });
});

describe('signWebhook', () => {
  it('produces Standard Webhooks headers that verify with the same secret and fail with another', () => {
    const body = JSON.stringify(buildCallCompletedEvent(DETAIL));
    const headers = signWebhook(SECRET, webhookIdFor('CAunit0001'), new Date(), body);
    expect(headers['webhook-id']).toBe('msg_CAunit0001');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook('whsec_' + Buffer.from('another-secret-0123456789').toString('base64')).verify(body, headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(body.replace('Hi there', 'Hi thera'), headers)).toThrow();
  });
  it('is rejected by receivers when the timestamp is stale (replay protection)', () => {
    const body = '{}';
    const headers = signWebhook(SECRET, 'msg_x', new Date(Date.now() - 3_600_000), body);
    expect(() => new Webhook(SECRET).verify(body, headers)).toThrow(/timestamp/i);
  });
});

describe('classifyStatus', () => {
  it.each([
    [200, 'delivered'], [204, 'delivered'], [400, 'permanent'], [401, 'permanent'], [404, 'permanent'], [422, 'permanent'],
    [408, 'retry'], [429, 'retry'], [500, 'retry'], [503, 'retry'], [302, 'retry'],
  ] as const)('%i → %s', (status, expected) => expect(classifyStatus(status)).toBe(expected));
});

describe('sendWebhook (local HTTP receiver)', () => {
  let server: http.Server;
  let url: string;
  let mode: 'ok' | 'hang' | 'reject' = 'ok';
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (mode === 'hang') return; // never answers
        res.writeHead(mode === 'ok' ? 202 : 410).end('nope');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/crm`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('POSTs the exact signed body and reports delivered on 2xx', async () => {
    mode = 'ok';
    const body = JSON.stringify(buildCallCompletedEvent(DETAIL));
    const r = await sendWebhook({ url, secret: SECRET, msgId: 'msg_CAunit0001', body });
    expect(r).toEqual({ outcome: 'delivered', statusCode: 202 });
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('reports a 4xx as permanent with the status line', async () => {
    mode = 'reject';
    const r = await sendWebhook({ url, secret: SECRET, msgId: 'msg_1', body: '{}' });
    expect(r).toEqual({ outcome: 'permanent', statusCode: 410, error: 'HTTP 410 Gone' });
  });

  it('times out (retryable) when the receiver never answers', async () => {
    mode = 'hang';
    const t0 = Date.now();
    const r = await sendWebhook({ url, secret: SECRET, msgId: 'msg_2', body: '{}', timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r).toEqual({ outcome: 'retry', statusCode: null, error: expect.stringMatching(/timed out/) });
  });

  it('reports connection errors as retryable without the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await sendWebhook({ url: `http://user:pw@127.0.0.1:${port}/x?token=abc`, secret: SECRET, msgId: 'msg_3', body: '{}' });
    expect(r.outcome).toBe('retry');
    expect(r.outcome !== 'delivered' && r.error).not.toMatch(/token|pw|127\.0\.0\.1/);
  });
});
