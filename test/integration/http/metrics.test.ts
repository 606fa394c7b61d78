import pino from 'pino';
import { listen } from '../../helpers/http';
import { createApp } from '../../../src/http/app';
import { createMetricsRouter } from '../../../src/http/routes/metrics';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics';

const TOKEN = 'metrics-test-token-0123456789';

describe('GET /metrics (Prometheus, behind METRICS_TOKEN)', () => {
  let metrics: Metrics;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    metrics = createMetrics();
    const app = createApp({ logger: pino({ level: 'silent' }), routers: [createMetricsRouter({ registry: metrics.registry, token: TOKEN })] });
    ({ base, close } = await listen(app));
  });

  afterAll(async () => {
    await close();
  });

  it('401 without the bearer token, with a wrong one or another scheme, never showing metrics', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key-123456' }, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }];
    for (const headers of attempts) {
      const res = await fetch(`${base}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="metrics"/);
      const body = await res.text();
      expect(body).not.toContain('callcenter_');
      expect(body).not.toContain(TOKEN);
    }
  });

  it('200 Prometheus text with the call-center and Node event-loop metrics of the given registry', async () => {
    metrics.activeCalls.set(3);
    metrics.turnStageMs.observe({ stage: 'reply' }, 420);
    metrics.bargeIns.inc();
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.text();
    expect(body).toMatch(/^# TYPE callcenter_active_calls gauge$/m);
    expect(body).toMatch(/^callcenter_active_calls 3$/m);
    expect(body).toMatch(/^callcenter_turn_stage_ms_count\{stage="reply"\} 1$/m);
    expect(body).toMatch(/^callcenter_barge_ins_total 1$/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(body).toMatch(/^process_resident_memory_bytes \d/m);
  });

  it('serves only GET /metrics (other paths fall through to the app 404)', async () => {
    const res = await fetch(`${base}/metrics/extra`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });
});
