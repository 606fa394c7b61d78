import type { Browser } from 'playwright-core';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';
import { uniqueSid } from '../helpers/db';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * Overview and Live calls in Chromium against the real server. Needs the usage helper's GET /api/analytics/overview
 * and the live helper's /api/live/* routes (merged by the lead): the overview's call count is the database's, the
 * live page connects its SSE feed and shows no call; a viewer sees no supervisor buttons. Axe on each page.
 */
describe('dashboard: overview and live calls (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    // One after the other: on a loaded machine the Vite build, the server's start and Chromium compete.
    srv = await startDashboardServer('overview');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('shows the overview KPIs and charts for the last 7 days', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer, '/overview');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // The page's range is [midnight UTC 6 days ago, now): earlier suites on this Jest worker's database may have left
    // calls dated in the future (injected clocks), which the overview rightly leaves out.
    const now = new Date();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 6));
    const { n } = (await srv.db('calls').where('started_at', '>=', since).andWhere('started_at', '<', now).count({ n: '*' }).first()) as { n: string };
    await page.getByTestId('kpi-Calls').filter({ hasText: new RegExp(`^${Number(n)}$`) }).waitFor();
    await page.getByRole('img', { name: 'Calls, answered and abandoned per day' }).waitFor();
    await page.getByRole('img', { name: 'Reply latency p50 and p95 per stage per day, ms' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'overview');
    await page.context().close();
  });

  it('connects the live feed and shows the calls in progress (none here)', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, '/live');
    await page.getByTestId('feed-status').filter({ hasText: 'live' }).waitFor();
    await page.getByText('No calls in progress.').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'live-calls');
    await page.context().close();
  });

  it('shows a call the feed publishes, with each new turn and its latency; the card passes axe', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, '/live');
    await page.getByTestId('feed-status').filter({ hasText: 'live' }).waitFor();
    const feed = srv.server.liveService.feed;
    const callSid = uniqueSid('CA');
    feed.started({ callSid, agentId: 'support', direction: 'inbound', from: '+14155550142', to: '+18005550199' });
    const card = page.getByTestId(`live-call-${callSid}`);
    await card.waitFor();
    feed.turn(callSid, { seq: 1, role: 'caller', text: 'Where is my order?', language: 'en', startMs: 0, endMs: 1200 });
    feed.turn(callSid, { seq: 2, role: 'agent', text: 'It ships tomorrow.', language: 'en', startMs: 1700, endMs: 3000, timings: { endpointingMs: 200, sttMs: 100, llmFirstTokenMs: 300, ttsFirstByteMs: 120, replyLatencyMs: 720 } });
    const log = card.getByRole('log', { name: 'Transcript of +14155550142' });
    await log.getByText('Where is my order?').waitFor();
    await log.getByText('It ships tomorrow.').waitFor();
    await log.getByText('reply 720 ms').waitFor();
    await card.getByRole('button', { name: 'Hang up' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    feed.ended(callSid, 'caller hung up');
    await card.waitFor({ state: 'detached' });
    await page.context().close();
  });
});
