import path from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import type { Redis } from 'ioredis';
import { wavFileToMulaw8k } from '../../src/cli/call-report';
import { startDispatcher } from '../../src/campaigns/start-dispatcher';
import type { Dispatcher } from '../../src/campaigns/dispatcher';
import { FIXTURE_AUDIO_DIR } from '../../src/eval/references';
import { createRedisConnection } from '../../src/jobs/queues';
import { TwilioCallDriver, type CalleeScript } from '../doubles/twilio-call-driver';
import { TwilioRestDouble } from '../doubles/twilio-rest-double';
import { serveTwilioRestDouble } from '../doubles/twilio-rest-http';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { addContacts, quiesceCampaigns } from '../helpers/campaign-fixtures';
import { createTestAgent, createTestCampaign } from '../helpers/campaigns';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * A small campaign run from its detail page in Chromium against the real server: the campaign dispatcher runs
 * in-process (as in a worker), dialing through Twilio's REST API served by the REST double, and the call driver plays
 * Twilio and the callees (status callbacks, the voice webhook, the media stream): one person answers and speaks a
 * LibriVox sentence to the agent, one line is busy and one never answers (one attempt each). A supervisor presses
 * Start and watches the page (it polls while running) reach `completed` with 3 of 3 contacts finished and the funnel
 * counting the answered call.
 */
describe('campaign run to completion (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;
  let dispatcher: Dispatcher;
  let redis: Redis;
  const rest = new TwilioRestDouble();
  let twilioHttp: Awaited<ReturnType<typeof serveTwilioRestDouble>>;
  let driver: TwilioCallDriver;
  const errors: string[] = [];

  beforeAll(async () => {
    twilioHttp = await serveTwilioRestDouble(rest);
    srv = await startDashboardServer('campaign-run', { env: { TWILIO_API_BASE_URL: twilioHttp.url, DISPATCH_INTERVAL_MS: '200', SILENCE_REPROMPT_MS: '0' } });
    browser = await launchChromium();
    await quiesceCampaigns(srv.db);
    redis = createRedisConnection(srv.config.redisUrl, 'producer');
  }, 180_000);

  afterAll(async () => {
    await dispatcher?.stop();
    await driver?.idle();
    redis?.disconnect();
    await browser?.close();
    await srv?.close();
    await twilioHttp?.close();
  });

  it('starts the campaign from its page and shows it completed with every contact finished', async () => {
    const agentId = await createTestAgent(srv.db, { tag: 'run-' });
    const campaign = await createTestCampaign(srv.db, agentId, {
      name: `Browser run ${process.pid}`,
      window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
      maxConcurrent: 2,
      cps: 5,
      retry: { maxAttempts: 1, delaysSeconds: { busy: [60], noAnswer: [60], failed: [60], voicemail: [60] } },
    });
    await addContacts(srv.db, campaign.id, 3);
    const phones: string[] = (await srv.db('campaign_contacts').where({ campaign_id: campaign.id }).orderBy('id').select('phone')).map((r) => r.phone);
    const human = wavFileToMulaw8k(path.join(FIXTURE_AUDIO_DIR, 'librivox-0870.wav')).subarray(0, 8 * 1_500);
    const scripts: CalleeScript[] = [{ kind: 'human', turns: [{ audio: human }] }, { kind: 'no-connect', end: 'busy' }, { kind: 'no-connect', end: 'no-answer' }];
    driver = new TwilioCallDriver({
      rest,
      servers: [{ origin: `http://127.0.0.1:${srv.server.port}` }],
      publicBaseUrl: srv.config.publicBaseUrl,
      authToken: srv.config.twilio.authToken,
      accountSid: srv.config.twilio.accountSid,
      script: (call) => scripts[phones.indexOf(call.to)] ?? (errors.push(`unexpected dial to ${call.to}`), { kind: 'no-connect', end: 'failed' }),
      onError: (m) => errors.push(m),
      replyTimeoutMs: 30_000,
    });
    dispatcher = startDispatcher({ config: { ...srv.config, queuePrefix: `dash-campaign-run-${process.pid}` }, db: srv.db, redis, logger: pino({ level: 'silent' }) });

    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, `/campaigns/${campaign.id}`);
    await page.getByRole('heading', { level: 1, name: new RegExp(`Browser run ${process.pid}`) }).waitFor();
    expect(await page.getByTestId('campaign-state').textContent()).toBe('draft');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('campaign-state').filter({ hasText: /^running$/ }).waitFor();
    // The page polls while running; the dispatcher completes the campaign once every contact is final.
    await page.getByTestId('campaign-state').filter({ hasText: /^completed$/ }).waitFor();
    await page.getByRole('progressbar', { name: '100% of contacts finished' }).waitFor();
    expect(await page.getByRole('table', { name: 'Contacts per state' }).textContent()).toMatch(/done\s*1/);
    // The contacts table is re-read when the counts change: no contact is left shown as in progress.
    const contactsTable = page.getByRole('table', { name: 'Contacts', exact: true });
    await contactsTable.getByRole('cell', { name: 'done', exact: true }).waitFor();
    expect(await contactsTable.getByRole('cell', { name: 'in-progress', exact: true }).count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'campaign-completed');
    await page.context().close();

    await driver.idle();
    expect(errors).toEqual([]);
    const contacts = await srv.db('campaign_contacts').where({ campaign_id: campaign.id }).orderBy('id').select('state', 'attempts', 'last_outcome');
    expect(contacts).toEqual([
      { state: 'done', attempts: 1, last_outcome: 'completed' },
      { state: 'failed', attempts: 1, last_outcome: 'busy' },
      { state: 'failed', attempts: 1, last_outcome: 'no-answer' },
    ]);
    expect(rest.created.map((c) => c.to).sort()).toEqual([...phones].sort());
  });
});
