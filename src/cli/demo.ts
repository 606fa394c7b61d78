import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config';
import { createDb } from '../db/knex';
import { ensureDatabase, migrateAndSeed } from '../db/setup';
import { simulateCall } from './twilio-simulator';
import { formatCallReport, waitForCall, wavFileToMulaw8k } from './call-report';
import { wordErrorRate } from '../eval/wer';
import { FIXTURE_AUDIO_DIR, referenceTranscript } from '../eval/references';
import { startCrmReceiver } from './crm-receiver';
import { freePort, waitForHealth, waitForReady } from './local-server';
import { createPostCallQueue, createRedisConnection } from '../jobs/queues';
import { ensureDemoAdmin } from './demo-admin';
import { startTwilioEmulator } from './twilio-emulator';
import { DEMO_CAMPAIGN_CONTACTS, runDemoCampaign } from './demo-campaign';
import { parseArgs } from './args';

/**
 * `npm run demo`: migrates + seeds the database, starts a local CRM receiver that verifies Standard Webhooks
 * signatures, starts the server and the worker as child processes, places a simulated Twilio inbound call with a
 * real recording (LibriVox, shipped in test/fixtures/audio), prints the conversation, reply latency, WER, CSAT and
 * the CRM delivery; then runs a 3-contact outbound campaign (answers, voicemail, busy) through the API and the
 * worker's dispatcher against a local Twilio emulator (src/cli/twilio-emulator.ts, via TWILIO_API_BASE_URL) and prints
 * each contact's outcome. Exits 0 only if every step worked. It also creates (or re-keys) the demo admin
 * `admin@demo.local` with a fresh random password and prints the login once (see src/cli/demo-admin.ts).
 *
 * `npm run demo -- --serve`: the same, on `PORT` (default 3000) instead of a free port, and then it keeps the server,
 * the worker, the CRM receiver and the Twilio emulator running on the demo data (the demo call and campaign included)
 * and prints the dashboard URL and the demo admin's login, until Ctrl-C (SIGINT) or SIGTERM stops them all.
 * @throws Error (exit 1) when `PORT` is taken.
 */
const ROOT = path.resolve(__dirname, '../..');
const RECORDING = 'librivox-0880.wav';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { serve: 'boolean' });
  const serve = args.serve === true;
  const config = loadConfig();
  console.log('1/6 database: migrate + seed');
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl);
  const admin = await migrateAndSeed(db)
    .then(() => ensureDemoAdmin(db))
    .finally(() => db.destroy());
  const loginLine = `login (POST /api/auth/login): ${admin.email} / ${admin.password}  — a new random password each demo run, shown only here`;
  console.log(`  demo admin ${admin.created ? 'created' : 'exists; password rotated'}: ${loginLine}`);

  console.log('2/6 CRM receiver (verifies Standard Webhooks signatures)');
  const crm = await startCrmReceiver(config.crm.webhookSecret!);

  console.log('3/6 server + worker');
  const port = serve ? await requirePort(config.port) : await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const callee = new Map<string, 'human' | 'voicemail' | 'busy'>(DEMO_CAMPAIGN_CONTACTS.map((c) => [c.phone, c.kind]));
  const emulator = await startTwilioEmulator({
    serverUrl,
    publicBaseUrl: config.publicBaseUrl,
    authToken: config.twilio.authToken,
    callee: (to) => {
      const kind = callee.get(to);
      if (kind === 'human') return { kind, audio: wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, RECORDING)) };
      if (kind === 'voicemail') return { kind, audio: wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')) };
      return { kind: kind ?? 'no-answer' };
    },
  });
  const env = {
    ...process.env,
    PORT: String(port),
    TWILIO_API_BASE_URL: emulator.url,
    DISPATCH_INTERVAL_MS: process.env.DISPATCH_INTERVAL_MS ?? '250',
    CRM_WEBHOOK_URL: crm.url,
    CRM_WEBHOOK_SECRET: config.crm.webhookSecret,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const children = [spawnTsx('src/main.ts', env, 'server'), spawnTsx('workers/main.ts', env, 'worker')];
  const stopChildren = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.on('exit', stopChildren);
  try {
    await waitForHealth(serverUrl, 60_000);
    // Ready, not just up: the STT's models loaded, and the post-call worker connected (both processes done starting,
    // so their start-up CPU does not land on the call's reply latency).
    await waitForReady(serverUrl, 60_000);
    await waitForPostCallWorker(config.redisUrl, config.queuePrefix, 60_000);

    console.log(`4/6 simulated inbound call with a real recording (${RECORDING}), streamed in real time`);
    const sim = await simulateCall({
      serverUrl,
      publicBaseUrl: config.publicBaseUrl,
      authToken: config.twilio.authToken,
      accountSid: config.twilio.accountSid,
      callerMulaw: wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, RECORDING)),
    });
    const detail = await waitForCall(serverUrl, config.apiKey, sim.callSid, (d) => d.csat !== null && ['delivered', 'failed', 'skipped'].includes(d.crmSync.status), 60_000);

    console.log('5/6 result');
    for (const line of formatCallReport(sim, detail)) console.log(`  ${line}`);
    const reference = referenceTranscript(RECORDING);
    const callerText = detail?.turns.filter((t) => t.role === 'caller').map((t) => t.text).join(' ') ?? '';
    const wer = wordErrorRate(reference, callerText);
    console.log(`  caller-turn WER vs reference "${reference}": ${(wer.wer * 100).toFixed(1)}%`);
    const delivery = crm.received.find((r) => r.payload?.data?.callSid === sim.callSid);
    console.log(`  CRM receiver: ${delivery ? `got call.completed, signature ${delivery.verified ? 'verified' : 'INVALID'}` : 'nothing received'}`);

    const problems: string[] = [];
    if (!detail) problems.push('call not stored');
    else {
      if (detail.status !== 'completed') problems.push(`status ${detail.status}`);
      if (detail.language !== 'en') problems.push(`language ${detail.language}`);
      if (!detail.turns.some((t) => t.role === 'agent' && t.startMs < 1000)) problems.push('no greeting');
      if (!detail.turns.some((t) => t.role === 'caller' && t.text)) problems.push('no caller turn');
      const callerIdx = detail.turns.findIndex((t) => t.role === 'caller');
      if (!detail.turns.slice(callerIdx + 1).some((t) => t.role === 'agent')) problems.push('no agent reply');
      if (!detail.csat) problems.push('no CSAT');
      if (detail.crmSync.status !== 'delivered') problems.push(`CRM sync ${detail.crmSync.status}`);
    }
    if (sim.replyLatencyMs === null) problems.push('no reply audio');
    if (sim.wavHeaders > 0) problems.push('WAV header in media');
    if (!delivery?.verified) problems.push('CRM signature not verified');
    console.log('6/6 outbound campaign: 3 contacts (answers, voicemail, busy) dialed by the worker through a local Twilio emulator');
    const outbound = await runDemoCampaign(serverUrl, config.apiKey!);
    for (const line of outbound.lines) console.log(`  ${line}`);
    problems.push(...outbound.problems);
    if (problems.length) {
      console.error(`demo FAILED: ${problems.join('; ')}`);
      process.exitCode = 1;
    } else console.log('demo OK');
    console.log(`  ${loginLine}`);
    if (serve) {
      console.log(`\ndashboard: ${serverUrl}/  (log in as ${admin.email} / ${admin.password})`);
      console.log(`API docs:  ${serverUrl}/api/docs/   server, worker, CRM receiver and Twilio emulator keep running; Ctrl-C stops them`);
      await untilSignal();
    }
  } finally {
    stopChildren();
    await crm.close();
    await emulator.close();
  }
}

/** Polls BullMQ until a worker listens on the post-call queue. @throws Error after `timeoutMs`. */
async function waitForPostCallWorker(redisUrl: string, prefix: string, timeoutMs: number): Promise<void> {
  const redis = createRedisConnection(redisUrl, 'producer');
  const queue = createPostCallQueue(redis, { prefix });
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      if ((await queue.getWorkers()).length > 0) return;
    }
    throw new Error(`no post-call worker connected within ${timeoutMs} ms`);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** `port` if nothing listens on it. @throws Error naming the port when it is taken. */
async function requirePort(port: number): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'EADDRINUSE' ? `port ${port} is taken: set PORT to a free one for --serve` : err.message)));
    server.listen(port, () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function spawnTsx(entry: string, env: NodeJS.ProcessEnv, name: string): ChildProcess {
  const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, entry)], { env, cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (code && code !== 0) console.error(`${name} exited with ${code ?? signal}`);
  });
  return child;
}



main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
