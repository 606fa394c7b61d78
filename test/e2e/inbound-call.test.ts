import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig } from '../../src/config';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { startCrmReceiver } from '../../src/cli/crm-receiver';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { startWorkers, type RunningWorkers } from '../../workers';
import { createRedisConnection } from '../../src/jobs/queues';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { waitForCall, wavFileToMulaw8k } from '../../src/cli/call-report';
import { wordErrorRate } from '../../src/eval/wer';
import { FIXTURE_AUDIO_DIR, referenceTranscript } from '../../src/eval/references';

const FIXTURES = FIXTURE_AUDIO_DIR;
const SECRET = 'whsec_ZTJlLXRlc3QtY3JtLXNlY3JldC0xMjM0NTY3OA==';

/**
 * One full inbound call on a fresh stack: real PostgreSQL + Redis, the offline providers (Silero VAD, Moonshine,
 * espeak-ng, local responder, Postgres vectors), the server on an ephemeral port, the BullMQ workers in-process,
 * a CRM receiver verifying signatures, and a simulated Twilio caller streaming a real recording in real time.
 */
describe('simulated inbound call, end to end', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let workers: RunningWorkers;
  let crm: Awaited<ReturnType<typeof startCrmReceiver>>;
  let workerRedis: ReturnType<typeof createRedisConnection>;
  const prefix = `e2e-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
    crm = await startCrmReceiver(SECRET);
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), CRM_WEBHOOK_URL: crm.url, CRM_WEBHOOK_SECRET: SECRET, CRM_RETRY_BASE_MS: '100', LOG_LEVEL: 'silent' });
    const logger = pino({ level: 'silent' });
    ctx = await buildAppContext(config, logger, { queuePrefix: prefix });
    server = await startServer(config, ctx);
    workerRedis = createRedisConnection(config.redisUrl, 'worker');
    workers = startWorkers({ db: ctx.db, connection: workerRedis, prefix, logger, crm: config.crm });
    (global as any).__config = config;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await workers?.queue.obliterate({ force: true }).catch(() => undefined);
    await workers?.close();
    workerRedis?.disconnect();
    await ctx?.close();
    await crm?.close();
    await db?.destroy();
  });

  it('greets, transcribes the caller, replies in speech, stores, scores and pushes to the CRM', async () => {
    const config = (global as any).__config;
    const file = 'librivox-0880.wav';
    const sim = await simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: wavFileToMulaw8k(path.join(FIXTURES, file)),
    });
    expect(sim.closeCode).toBe(1000);
    expect(sim.wavHeaders).toBe(0);
    expect(sim.agentAudio.length).toBeGreaterThan(8000); // > 1 s of agent speech
    expect(sim.replyLatencyMs).not.toBeNull();
    expect(sim.segments.length).toBeGreaterThanOrEqual(2); // greeting + reply

    const detail = await waitForCall(`http://127.0.0.1:${server.port}`, config.apiKey, sim.callSid, (d) => d.crmSync.status === 'delivered', 30_000);
    expect(detail).not.toBeNull();
    const d = detail!;
    expect(d.status).toBe('completed');
    expect(d.language).toBe('en');
    expect(d.turns[0]).toMatchObject({ role: 'agent', language: 'en' });
    expect(d.turns[0].text).toMatch(/thanks for calling/i);
    const callerIdx = d.turns.findIndex((t) => t.role === 'caller');
    expect(callerIdx).toBeGreaterThan(0);
    const caller = d.turns[callerIdx];
    expect(caller.text.length).toBeGreaterThan(0);
    expect(caller.endMs).toBeGreaterThan(caller.startMs);
    const reply = d.turns.slice(callerIdx + 1).find((t) => t.role === 'agent');
    expect(reply?.text.length).toBeGreaterThan(0);
    expect(d.csat?.score).toBeGreaterThanOrEqual(1);
    expect(d.csat?.score).toBeLessThanOrEqual(5);
    expect(d.crmSync).toEqual({ status: 'delivered', attempts: 1 });
    // What the offline providers served this call, as recorded at its end (no list price: they cost nothing).
    const used = Object.fromEntries(d.usage.lines.map((l) => [`${l.provider}/${l.kind}`, l.quantity]));
    expect(used['local.moonshine-base/stt_audio']).toBeGreaterThan(1); // seconds of caller speech transcribed
    expect(used['local.espeak-ng/tts_characters']).toBeGreaterThan(d.turns[0].text.length); // the greeting and the reply
    // The only cost is Twilio's: the simulator's final status callback carries CallDuration (per started minute).
    const priced = d.usage.lines.filter((l) => l.costUsd > 0);
    expect(priced.map((l) => [l.provider, l.kind, l.unit])).toEqual([['twilio', 'telephony_inbound', 'minutes']]);
    expect(d.usage.costUsd).toBeCloseTo(priced[0].costUsd, 10);

    const delivered = crm.received.filter((r) => r.payload?.data?.callSid === sim.callSid);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].verified).toBe(true);
    expect(delivered[0].payload.type).toBe('call.completed');
    expect(delivered[0].payload.data.turns).toHaveLength(d.turns.length);
    // Post-call analysis ran offline (no LLM key) and its result travels with call.completed.
    expect(d.analysis).toMatchObject({ method: 'local:v1', disposition: expect.stringMatching(/^(resolved|unresolved)$/) });
    expect(d.analysis!.summary).toContain(caller.text.trim().slice(0, 10));
    expect(delivered[0].payload.data).toMatchObject({ summary: d.analysis!.summary, disposition: d.analysis!.disposition, extractedFields: d.analysis!.fields });

    const reference = referenceTranscript(file);
    const wer = wordErrorRate(reference, caller.text);
    // eslint-disable-next-line no-console
    console.log(`e2e call: reply latency ${sim.replyLatencyMs} ms, caller text "${caller.text}", WER ${(wer.wer * 100).toFixed(0)}%`);
    expect(wer.wer).toBeLessThanOrEqual(0.13); // Moonshine base: 0 % measured on this recording; one word of 8 as margin
  }, 90_000);
});
