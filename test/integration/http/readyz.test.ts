import net from 'node:net';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig } from '../../../src/config';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { migrateAndSeed } from '../../../src/db/setup';
import { buildAppContext, type AppContext } from '../../../src/context';
import { startServer, type RunningServer } from '../../../src/server';
import { createApp } from '../../../src/http/app';
import { listen } from '../../helpers/http';
import { FakeStt } from '../../../src/providers/stt/fake';
import { FakeLlm } from '../../../src/providers/llm/fake';
import { FakeTts } from '../../../src/providers/tts/fake';
import { ProviderError } from '../../../src/providers/errors';
import type { SttProvider } from '../../../src/providers/types';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A fake STT whose warm-up fails the first `failures` times (as a local engine that cannot start yet). */
function flakyStt(failures: number): SttProvider & { warmups: number } {
  const inner = new FakeStt({ respond: () => 'hello' });
  const stt = {
    id: 'flaky',
    warmups: 0,
    transcribe: inner.transcribe.bind(inner),
    warmup: async () => {
      stt.warmups++;
      if (stt.warmups <= failures) throw new ProviderError('flaky', 'engine not started', { retryable: true });
    },
  };
  return stt;
}

/**
 * `GET /readyz` on the real server with real PostgreSQL and Redis: ready only when every dependency answers, 503
 * naming the one that does not (a context pointing at a closed port), 503 `draining` once the drain started.
 */
describe('GET /readyz', () => {
  let db: Knex;
  const started: { ctx: AppContext; server: RunningServer }[] = [];

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
  }, 60_000);

  afterAll(async () => {
    for (const { ctx, server } of started) {
      await server.close();
      await ctx.close();
    }
    await db.destroy();
  });

  async function start(env: Record<string, string>, stt: SttProvider = new FakeStt({ respond: () => 'hello' })) {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', ...env });
    const providers = { stt, llm: new FakeLlm({ respond: () => 'Okay.' }), tts: new FakeTts({ firstByteMs: 1 }) };
    const ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `readyz-${process.pid}`, providers });
    const server = await startServer(config, ctx);
    started.push({ ctx, server });
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      return { status: res.status, body: await res.json() };
    };
    return { ctx, server, readyz };
  }

  it('200 with every check ok when all dependencies answer; the STT counts only once warmed up', async () => {
    // The warm-up at start-up and the one the first probe retries both fail; the second probe's succeeds.
    const stt = flakyStt(2);
    const { readyz } = await start({}, stt);
    const first = await readyz();
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ status: 'not ready', failed: ['stt'], checks: { postgres: { ok: true }, redis: { ok: true }, vad: { ok: true }, stt: { ok: false, error: 'failed' } } });
    const second = await readyz();
    expect(second).toEqual({
      status: 200,
      body: {
        status: 'ready',
        checks: {
          postgres: { ok: true, ms: expect.any(Number) },
          redis: { ok: true, ms: expect.any(Number) },
          vad: { ok: true, ms: expect.any(Number) },
          stt: { ok: true, ms: expect.any(Number) },
        },
      },
    });
    expect(stt.warmups).toBe(3);
    // Warmed up: later probes do not warm up again.
    expect((await readyz()).status).toBe(200);
    expect(stt.warmups).toBe(3);
  }, 60_000);

  it('503 naming redis when Redis is unreachable (closed port); /healthz stays 200', async () => {
    const { server, readyz } = await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not ready', failed: ['redis'], checks: { postgres: { ok: true }, redis: { ok: false }, vad: { ok: true }, stt: { ok: true } } });
    expect(JSON.stringify(r.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/); // reasons are logged, not served
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  }, 60_000);

  it('503 naming postgres when PostgreSQL is unreachable (closed port)', async () => {
    const { readyz } = await start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/nowhere` });
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not ready', failed: ['postgres'], checks: { postgres: { ok: false }, redis: { ok: true } } });
  }, 60_000);

  it('503 draining at once when the drain starts (metrics.draining = 1)', async () => {
    const { ctx, server, readyz } = await start({});
    expect((await readyz()).status).toBe(200);
    expect((await ctx.metrics.draining.get()).values[0]?.value ?? 0).toBe(0);
    const drained = server.drain(); // no live call: resolves at once
    expect(await readyz()).toEqual({ status: 503, body: { status: 'draining' } });
    expect((await ctx.metrics.draining.get()).values[0].value).toBe(1);
    await drained;
  }, 60_000);

  it('a hung check times out: 503 with error "timeout" after the per-check timeout, not a hung probe', async () => {
    const app = createApp({
      logger: pino({ level: 'silent' }),
      routers: [],
      readiness: { checks: { fine: async () => undefined, hung: () => new Promise<void>(() => undefined) }, draining: () => false, timeoutMs: 100 },
    });
    const { base, close } = await listen(app);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'not ready', failed: ['hung'], checks: { fine: { ok: true, ms: expect.any(Number) }, hung: { ok: false, ms: expect.any(Number), error: 'timeout' } } });
    } finally {
      await close();
    }
  });
});
