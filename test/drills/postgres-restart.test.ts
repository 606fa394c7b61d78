import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { waitFor } from '../helpers/async';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { createDb } from '../../src/db/knex';
import { ensureDatabase, migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { createMetrics, type Metrics } from '../../src/metrics/metrics';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { FakeStt } from '../../src/providers/stt/fake';
import { FakeLlm } from '../../src/providers/llm/fake';
import { FakeTts } from '../../src/providers/tts/fake';
import { closeInProcessServer } from '../helpers/in-process-server';

const CALLER_TEXT = 'What are your opening hours on Saturday?';
const REPLY_TEXT = 'We are open from nine to five on Saturdays.';

/** How many turns the server reports answered (the `reply` stage of callcenter_turn_stage_ms, as GET /metrics shows). */
async function answeredTurns(metrics: Metrics): Promise<number> {
  const { values } = await metrics.turnStageMs.get();
  return values.find((v) => v.metricName === 'callcenter_turn_stage_ms_count' && v.labels.stage === 'reply')?.value ?? 0;
}

/**
 * Fault drill: the call's PostgreSQL (a private cluster this test initdb's and starts, never the shared server) is
 * stopped (`pg_ctl stop -m fast`) while the caller speaks, stays down while the turn is transcribed, answered and
 * its rows are handed to the store, and is started again before the call ends. The call must go on, and every turn
 * — greeting, caller turn, agent reply — must be in call_turns once the call has ended: the per-call recorder has to
 * retry failed writes in order until PostgreSQL is back (within the end-of-call deadline), not drop them.
 *
 * Sequence (each step waits for an outcome, not for a time): the greeting's row is stored → stop PostgreSQL (the
 * caller starts speaking 300 ms after the greeting) → the server reports the caller's turn answered
 * (callcenter_turn_stage_ms{stage="reply"}), i.e. the caller and agent turns were recorded while the database is
 * down → 1 s more outage so those writes hit it → start PostgreSQL → the caller hangs up → the call row is finished.
 */
describe('drill: PostgreSQL restarted mid-call', () => {
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  let db: Knex;
  let config: Readonly<Config>;
  let ctx: AppContext;
  let server: RunningServer;
  const metrics = createMetrics({ defaultMetrics: false });
  /** Error-level log lines of the server (what the engine says about lost writes). */
  const errors: Array<{ msg: string; err?: { message?: string } }> = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    const databaseUrl = pg.url('callcenter_drill');
    await ensureDatabase(databaseUrl);
    db = createDb(databaseUrl, { min: 0, max: 2 });
    await migrateAndSeed(db);
    config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redis.url, LOG_LEVEL: 'error' });
    const providers = {
      stt: new FakeStt({ respond: () => CALLER_TEXT }),
      llm: new FakeLlm({ respond: () => REPLY_TEXT }),
      tts: new FakeTts({ firstByteMs: 5, msPerChar: 25 }),
    };
    ctx = await buildAppContext(config, logger, { queuePrefix: `drill-pg-${process.pid}-${Date.now()}`, providers, metrics });
    server = await startServer(config, ctx);
  }, 60_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
    await Promise.all([pg?.close(), redis?.close()]);
  }, 30_000);

  it('stores every turn spoken while PostgreSQL was down once it is back', async () => {
    const hangUp = new AbortController();
    const call = simulateCall({
      serverUrl: `http://127.0.0.1:${server.port}`,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav')),
      settleMs: 60_000, // the caller hangs up when the test says so (hangUp), not on its own
      endSignal: hangUp.signal,
    });
    call.catch(() => undefined);

    // 1. The call is streaming and its greeting is stored (this cluster holds only this drill's call).
    const greeting = await waitFor('the greeting row', async () => db('call_turns').first());
    expect(greeting).toMatchObject({ role: 'agent', seq: 1 });
    const callSid: string = greeting.call_sid;

    // 2. PostgreSQL goes down while the caller speaks.
    await pg.stop();
    expect(await answeredTurns(metrics)).toBe(0);

    // 3. The call goes on: the caller's turn is transcribed and answered in speech while the database is down.
    await waitFor('the caller turn answered', async () => (await answeredTurns(metrics)) >= 1, 20_000);
    expect(server.live.has(callSid)).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000)); // the outage lasts a little longer: those turns' writes hit it

    // 4. PostgreSQL is back; then the caller hangs up.
    await pg.start();
    hangUp.abort();
    const sim = await call;
    expect(sim.callSid).toBe(callSid);
    expect(sim.replyLatencyMs).not.toBeNull();
    expect(sim.agentAudio.length).toBeGreaterThan(new FakeTts({ msPerChar: 25 }).bytesFor(REPLY_TEXT));

    // 5. Once the call is finished, all three turns are stored, in order.
    // The session's own end (not Twilio's status callback, which sets ended_at too): post-call work is enqueued only
    // after every row of the call is written.
    const row = await waitFor('the call finished by the session', async () => {
      const r = await db('calls').where({ call_sid: callSid }).first();
      return r?.post_call_enqueued_at ? r : null;
    });
    expect(row.status).toBe('completed');
    const turns = await db('call_turns').where({ call_sid: callSid }).orderBy('seq');
    const lost = errors.filter((e) => /store write failed|call row/.test(e.msg));
    if (turns.length < 3) {
      // eslint-disable-next-line no-console
      console.warn(`drill: ${lost.length} store writes were lost: ${JSON.stringify(lost).slice(0, 3000)}`);
    }
    expect(turns.map((t) => [t.seq, t.role, t.text])).toEqual([
      [1, 'agent', expect.stringMatching(/thanks for calling/i)],
      [2, 'caller', CALLER_TEXT],
      [3, 'agent', REPLY_TEXT],
    ]);
  }, 60_000);
});
