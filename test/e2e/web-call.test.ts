import path from 'node:path';
import pino from 'pino';
import type { Knex } from 'knex';
import type WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config';
import { setupTestDb, testDatabaseUrl } from '../helpers/db';
import { migrateAndSeed } from '../../src/db/setup';
import { buildAppContext, type AppContext } from '../../src/context';
import { startServer, type RunningServer } from '../../src/server';
import { streamCall } from '../../src/cli/twilio-simulator';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { Accounts } from '../../src/http/auth/accounts';
import { closeInProcessServer } from '../helpers/in-process-server';
import { createTestUser, login } from '../helpers/auth-api';
import { openWebCall } from '../helpers/web-call';
import { waitFor } from '../helpers/async';

/**
 * The browser test call's WebSocket (`/api/web-call`, issue 12 §6) on the real server: a user logged in with a
 * session cookie speaks the Twilio Media Streams protocol with a real recording and the same engine answers; the call
 * is stored with direction `web`. Refusals: no session (401), a foreign Origin (403), a 4th concurrent call (429).
 */
describe('browser test call WebSocket', () => {
  let db: Knex;
  let ctx: AppContext;
  let server: RunningServer;
  let config: Config;
  let base: string;
  let origin: string;
  let agentId: string;
  let user: { id: string; email: string; password: string };
  let cookie: string;
  const prefix = `webcall-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = (await migrateAndSeed(db)).agentId;
    config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: testDatabaseUrl(), LOG_LEVEL: 'silent', SESSION_SECRET: 'web-call-test-session-secret-0123456789' });
    ctx = await buildAppContext(config, pino({ level: process.env.DEBUG_LOG ? 'info' : 'silent' }), { queuePrefix: prefix });
    server = await startServer(config, ctx);
    base = `http://127.0.0.1:${server.port}`;
    origin = base;
    user = await createTestUser(new Accounts(ctx.db), 'viewer', 'webcall');
    const l = await login(base, user.email, user.password, { origin });
    expect(l.res.status).toBe(200);
    cookie = l.cookie!;
  }, 120_000);

  afterAll(async () => {
    await closeInProcessServer({ server, ctx, db });
  });

  it('answers a logged-in user over the Media Streams protocol with the same engine and stores the call as web', async () => {
    const open = await openWebCall(base, agentId, { cookie, origin });
    if (!open.ok) throw new Error(`upgrade refused: ${open.status} ${open.body}`);
    const caller = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'));
    // The caller hangs up once the agent's reply to its turn is stored (the transcript event), however slow the machine.
    const replied = new AbortController();
    open.ws.on('message', () => {
      const callerSeq = open.events.find((e) => e.event === 'transcript' && e.turn.role === 'caller')?.turn.seq;
      if (callerSeq !== undefined && open.events.some((e) => e.event === 'transcript' && e.turn.role === 'agent' && e.turn.seq > callerSeq)) replied.abort();
    });
    const sim = await streamCall(open.ws, { callSid: open.callSid, accountSid: 'web', callerMulaw: caller, endSignal: replied.signal, settleMs: 60_000, replyTimeoutMs: 60_000 });
    expect(sim).toMatchObject({ closeCode: 1000, closeReason: 'stream stopped', wavHeaders: 0 });
    expect(replied.signal.aborted).toBe(true);
    expect(sim.agentAudio.length).toBeGreaterThan(8000); // > 1 s of agent speech
    expect(sim.replyLatencyMs).not.toBeNull(); // agent audio after the caller spoke

    const transcripts = open.events.filter((e) => e.event === 'transcript');
    const callerEvent = transcripts.find((e) => e.turn.role === 'caller');
    expect(callerEvent?.callSid).toBe(open.callSid);
    expect(callerEvent?.turn.text.length).toBeGreaterThan(0);
    expect(transcripts.some((e) => e.turn.role === 'agent' && e.turn.seq > callerEvent.turn.seq && e.turn.timings?.replyLatencyMs >= 0)).toBe(true);

    await waitFor('the call to end', async () => (await db('calls').where({ call_sid: open.callSid }).first())?.ended_at != null, 20_000);
    const call = await db('calls').where({ call_sid: open.callSid }).first();
    expect(call).toMatchObject({ direction: 'web', from_number: `web:${user.id}`, to_number: `agent:${agentId}`, agent_id: agentId, status: 'completed' });
    const turns = await db('call_turns').where({ call_sid: open.callSid }).orderBy('seq');
    const stored = turns.find((t) => t.role === 'caller');
    expect(stored.text).toBe(callerEvent.turn.text);
    expect(turns[0].role).toBe('agent'); // the greeting
  }, 90_000);

  it('refuses an upgrade without a session or key (401) and one from another site (403)', async () => {
    const anonymous = await openWebCall(base, agentId, { origin });
    expect(anonymous).toMatchObject({ ok: false, status: 401 });
    const foreign = await openWebCall(base, agentId, { cookie, origin: 'http://evil.example' });
    expect(foreign).toMatchObject({ ok: false, status: 403 });
    expect(foreign.ok === false && JSON.parse(foreign.body).error).toMatch(/origin http:\/\/evil\.example is not allowed/);
    const unknownAgent = await openWebCall(base, 'no-such-agent', { cookie, origin });
    expect(unknownAgent).toMatchObject({ ok: false, status: 404 });
  });

  it('accepts an API key without a cookie', async () => {
    const open = await openWebCall(base, agentId, { authorization: `Bearer ${config.apiKey}` });
    expect(open.ok).toBe(true);
    if (open.ok) await closed(open.ws);
  });

  it(`caps a user's concurrent test calls at WEB_CALLS_PER_USER (3) and frees a slot when a call closes`, async () => {
    const held: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await openWebCall(base, agentId, { cookie, origin });
      if (!o.ok) throw new Error(`call ${i + 1} refused: ${o.status}`);
      held.push(o.ws);
    }
    const fourth = await openWebCall(base, agentId, { cookie, origin });
    expect(fourth).toMatchObject({ ok: false, status: 429 });
    await closed(held.pop()!);
    // The slot is released once the server sees the close (asynchronously): a new call then gets in.
    const again = await waitFor('a freed slot', async () => {
      const o = await openWebCall(base, agentId, { cookie, origin });
      return o.ok ? o : null;
    }, 5_000);
    held.push(again.ws);
    await Promise.all(held.map(closed));
  });
});

/** Closes a client socket and waits for the close handshake. */
function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000, 'test done');
  });
}
