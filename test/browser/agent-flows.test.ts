import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import type { Redis } from 'ioredis';
import { resample } from '../../src/audio/resample';
import { encodeWav, parseWav } from '../../src/audio/wav';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { createRedisConnection } from '../../src/jobs/queues';
import { startWorkers, type RunningWorkers } from '../../workers';
import { waitFor } from '../helpers/async';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * The agent flows of the dashboard in Chromium against the real server, with the knowledge-ingestion worker running
 * in-process (the same Worker `npm run worker` starts, on the server's queue): a supervisor creates an agent,
 * uploads a knowledge document through the drop zone's file input and watches its status turn `ready` (the page
 * polls while it is pending); then the agent page's Test call button opens the Test call page, which places a
 * browser call with Chromium's fake microphone playing a LibriVox recording: the greeting, the caller's turn and the
 * agent's reply show in the live transcript with the turn's latency, the agent's audio arrives, and hanging up stores a `web` call.
 */
describe('agent, knowledge and test call (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;
  let workers: RunningWorkers;
  let workerRedis: Redis;
  let tmp: string;
  const run = Date.now().toString(36);

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'agent-flows-'));
    // Chromium's fake capture wants a 16-bit PCM WAV (it loops it): 48 kHz mono, 3 s of silence (the greeting plays),
    // a LibriVox sentence, 8 s of silence (the reply plays).
    const speech = resample(parseWav(readFileSync(path.join(FIXTURE_AUDIO_DIR, 'librivox-0880.wav'))), 48_000);
    const samples = new Int16Array(48_000 * 3 + speech.samples.length + 48_000 * 8);
    samples.set(speech.samples, 48_000 * 3);
    const mic = path.join(tmp, 'caller.wav');
    writeFileSync(mic, encodeWav({ samples, sampleRate: 48_000 }));
    [srv, browser] = await Promise.all([
      startDashboardServer('agent-flows'),
      launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${mic}`, '--autoplay-policy=no-user-gesture-required']),
    ]);
    workerRedis = createRedisConnection(srv.config.redisUrl, 'worker');
    workers = startWorkers({
      db: srv.db,
      connection: workerRedis,
      prefix: srv.ctx.queue.opts.prefix,
      logger: pino({ level: 'silent' }),
      crm: { maxAttempts: 1, retryBaseMs: 10 },
      knowledge: { embedder: srv.ctx.providers.embedder, vectors: srv.ctx.providers.vectors },
    });
  }, 180_000);

  afterAll(async () => {
    await workers?.close();
    workerRedis?.disconnect();
    await srv?.ctx.knowledgeQueue.obliterate({ force: true }).catch(() => undefined);
    await browser?.close();
    await srv?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('creates an agent, ingests an uploaded document until ready, and places a test call from the agent page', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, '/agents/new');
    await page.getByRole('heading', { level: 1, name: 'New agent' }).waitFor();
    const name = `Knowledge agent ${run}`;
    await page.getByRole('textbox', { name: 'Name' }).fill(name);
    await page.getByRole('textbox', { name: 'System prompt' }).fill('You answer questions about returns, briefly.');
    await page.getByRole('textbox', { name: 'First message' }).fill('Hello, this is the returns desk.');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { level: 1, name: `Agent ${name}` }).waitFor();
    const agentId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect((await srv.db('agents').where({ id: agentId }).first())?.name).toBe(name);

    // The drop zone's file input (what a drop or a click on it feeds).
    await page.locator('input[type="file"]').setInputFiles({
      name: 'returns-policy.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Returns policy\n\nItems can be returned within 30 days of delivery with the receipt.\n\nRefunds reach the card in five to seven business days.\n'),
    });
    const doc = page.getByTestId('knowledge-doc').filter({ hasText: 'returns-policy' });
    await doc.waitFor();
    // pending → ready as the worker ingests it (the list re-reads itself while a document is pending).
    await doc.getByText('ready', { exact: true }).waitFor();
    const row = await srv.db('knowledge_documents').where({ agent_id: agentId }).first();
    expect(row).toMatchObject({ title: 'returns-policy', status: 'ready' });
    expect(Number((await doc.locator('td').nth(3).textContent()) ?? '0')).toBeGreaterThanOrEqual(1);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'agent-knowledge');

    // The agent page's Test call button preselects the agent.
    await page.getByRole('main').getByRole('link', { name: 'Test call' }).click();
    await page.waitForURL(/\/test-call\?agentId=/);
    await page.getByRole('heading', { level: 1, name: 'Test call' }).waitFor();
    await page.getByRole('button', { name: 'Start test call' }).click();
    await page.getByTestId('test-call-phase').filter({ hasText: 'In call' }).waitFor();
    const transcript = page.getByRole('log', { name: 'Test call transcript' });
    await transcript.getByText('Hello, this is the returns desk.').waitFor();
    // The fake microphone's sentence is a caller turn (the dashboard server's STT answers "hello"), then the reply.
    await transcript.getByText(/Caller:\s*hello/).first().waitFor();
    await transcript.getByText(/Agent:\s*Okay\./).first().waitFor();
    await page.getByRole('table', { name: 'Turn latency' }).waitFor();
    // The greeting and the reply were played back: more than a second of agent audio arrived.
    await page.getByTestId('agent-audio').filter({ hasText: /received: ([1-9]\d*)\.\d s/ }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'test-call');
    await page.getByRole('button', { name: 'Hang up' }).click();
    await page.getByTestId('test-call-phase').filter({ hasText: 'Call ended' }).waitFor();
    const call = await waitFor('the web call row to end', async () => {
      const c = await srv.db('calls').where({ agent_id: agentId, direction: 'web' }).first();
      return c?.ended_at ? c : null;
    }, 20_000);
    expect(call.from_number).toBe(`web:${srv.supervisor.id}`);
    const callerTurns = await srv.db('call_turns').where({ call_sid: call.call_sid, role: 'caller' });
    expect(callerTurns.map((t) => t.text)).toContain('hello');
    await page.context().close();
  });
});
