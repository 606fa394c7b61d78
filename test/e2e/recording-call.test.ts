import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { simulateCall } from '../../src/cli/twilio-simulator';
import { waitForCall, wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { closeInProcessServer } from '../helpers/in-process-server';
import { decoded, readStereoWav, sameSamples } from '../helpers/recording-audio';

/** Where `needle` first occurs in `hay` (sample-exact), or -1. */
function indexOfSamples(hay: Int16Array, needle: Int16Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const sumAbs = (a: Int16Array) => a.reduce((s, v) => s + Math.abs(v), 0);

/**
 * A simulated Twilio call (real recording, real time) through the real server: the session factory's recording tap
 * writes the call, and the API serves the two-channel WAV.
 */
describe('a simulated call is recorded (two channels, time-aligned) and served by the API', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Readonly<Config>;
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-recordings-'));

  beforeAll(async () => {
    db = await setupTestDb();
    await migrateAndSeed(db);
    config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', RECORDINGS_DIR: dir });
    ctx = await buildAppContext(config, pino({ level: 'silent' }), { queuePrefix: `e2e-rec-${process.pid}-${Date.now()}` });
    server = await startServer(config, ctx);
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
    rmSync(dir, { recursive: true, force: true });
  });

  it("caller left exactly as sent, agent right: silent until the greeting, the reply after the caller's turn, every agent sample once", async () => {
    const callerMulaw = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav'));
    const base = `http://127.0.0.1:${server.port}`;
    const sim = await simulateCall({ serverUrl: base, publicBaseUrl: config.publicBaseUrl, authToken: config.twilio.authToken, accountSid: config.twilio.accountSid, callerMulaw });
    expect(sim.closeCode).toBe(1000);
    expect(sim.clears).toBe(0);
    const detail = await waitForCall(base, config.apiKey, sim.callSid, (d) => !!(d as { recordingUrl?: string | null }).recordingUrl, 30_000);
    const url = (detail as { recordingUrl?: string | null } | null)?.recordingUrl;
    expect(url).toBe(`/api/calls/${sim.callSid}/recording`);

    const res = await fetch(base + url, { headers: { authorization: `Bearer ${config.apiKey}` } });
    expect(res.status).toBe(200);
    const wav = readStereoWav(Buffer.from(await res.arrayBuffer()));
    expect([wav.sampleRate, wav.channels]).toEqual([8_000, 2]);

    // Left: silence frames while the agent greeted, the recording from the turn's first frame on, then silence.
    const turn = sim.turns[0];
    const at = turn.startMs * 8;
    expect(sameSamples(wav.left.subarray(at, at + callerMulaw.length), decoded(callerMulaw))).toBe(true);
    expect(wav.left.subarray(0, at).every((s) => s === 0)).toBe(true);
    expect(wav.left.subarray(at + callerMulaw.length).every((s) => s === 0)).toBe(true);

    // Right: all the agent audio Twilio received and played (no clear), each sample once, in order.
    const agent = decoded(sim.agentAudio);
    expect(sumAbs(wav.right)).toBe(sumAbs(agent));
    // Windows of speech (silence would match anywhere): 100 ms from the first loud sample, 100 ms up to the last one.
    const loud = (s: number) => Math.abs(s) > 200;
    const first = agent.findIndex(loud);
    const last = agent.length - 1 - [...agent].reverse().findIndex(loud);
    expect(sim.replyLatencyMs).not.toBeNull(); // the agent replied after the caller's turn
    const greeting = indexOfSamples(wav.right, agent.subarray(first, first + 800));
    const replyEnd = indexOfSamples(wav.right, agent.subarray(last - 799, last + 1));
    expect(greeting).toBeGreaterThanOrEqual(0);
    expect(wav.right.subarray(0, greeting - first).every((s) => s === 0)).toBe(true); // silent until the greeting was sent
    // The reply was sent only once the caller's speech had been heard: it sits after the caller's turn.
    expect(replyEnd).toBeGreaterThan(turn.endMs * 8);
    expect(readdirSync(path.join(dir, '.partial'))).toEqual([]);
  }, 120_000);
});
