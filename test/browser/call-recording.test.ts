import type { Browser } from 'playwright-core';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { seedDashboardCall, startDashboardServer, type DashboardServer } from '../helpers/dashboard';
import { storeSpeechRecording } from '../helpers/recording-fixture';
import { RecordingsRepo } from '../../src/db/recordings';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * The call page's recording in Chromium against the real server: a call whose two-channel WAV (LibriVox speech on
 * both channels) sits in RECORDINGS_DIR shows a wavesurfer waveform (canvases drawn), its duration, and plays when
 * Play is pressed (the page's audio element's position advances); a call without a recording, or whose file is
 * gone, says so.
 */
describe('call recording playback (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    // Headless Chromium has no user to make a gesture count for autoplay: the click on Play is enough, this is a guard.
    [srv, browser] = await Promise.all([startDashboardServer('recording'), launchChromium(['--autoplay-policy=no-user-gesture-required'])]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('draws both channels of the recording and plays it', async () => {
    const callSid = await seedDashboardCall(srv.db, { from: '+14155550188' });
    await storeSpeechRecording(srv.db, callSid);
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer, `/calls/${callSid}`);
    await page.getByRole('heading', { level: 1, name: /Call/ }).waitFor();
    const waveform = page.getByRole('img', { name: /Recording waveform/ });
    await waveform.waitFor();
    const play = page.getByRole('button', { name: 'Play' });
    // Enabled once wavesurfer has fetched, decoded and drawn the file.
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid="recording-play"]')?.disabled === false);
    // wavesurfer draws into canvases inside its (open) shadow root, one set per channel.
    const canvases = await page.evaluate(() => {
      const host = (globalThis as any).document.querySelector('[data-testid="recording-waveform"] > div');
      const all: any[] = [...(host?.shadowRoot?.querySelectorAll('canvas') ?? [])];
      return all.filter((c) => c.width > 0 && c.height > 0).length;
    });
    expect(canvases).toBeGreaterThanOrEqual(2);
    // 0880 (≈ 3 s) on the left, 0890 from 1 s (≈ 5.3 s) on the right: the file lasts ≈ 6.3 s.
    expect(await page.getByTestId('recording-time').textContent()).toMatch(/^Position 0:00 \/ 0:0[56]$/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await play.click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await page.waitForFunction(() => ((globalThis as any).document.querySelector('[data-testid="recording-audio"]')?.currentTime ?? 0) > 0.5);
    await saveScreenshot(page, 'call-recording');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Play' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.querySelector('[data-testid="recording-audio"]')?.paused)).toBe(true);
    await page.context().close();
  });

  it('says "No recording" for a call without one, and for one whose file is gone (the API answers 404)', async () => {
    const without = await seedDashboardCall(srv.db);
    const gone = await seedDashboardCall(srv.db);
    await new RecordingsRepo(srv.db).add({ callSid: gone, storage: 'local', key: `2026/01/01/${gone}.wav`, durationMs: 1000, bytes: 16_044, channels: 2 });
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer, `/calls/${without}`);
    for (const callSid of [without, gone]) {
      await page.goto(`${srv.base}/calls/${callSid}`);
      await page.getByRole('heading', { level: 1, name: new RegExp(callSid) }).waitFor();
      await page.getByText('No recording.').waitFor();
      expect(await page.getByRole('img', { name: /Recording waveform/ }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Play' }).count()).toBe(0);
    }
    await page.context().close();
  });
});
