import type { Browser } from 'playwright-core';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * The dashboard in Chromium against the real server: an anonymous visit lands on the login form; an admin logs in
 * and sees the calls page with every navigation entry, Settings included; a viewer sees no Settings and no edit
 * buttons; logging out returns to the form. No serious accessibility violation on the pages visited.
 */
describe('dashboard: login and roles (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    [srv, browser] = await Promise.all([startDashboardServer('login'), launchChromium()]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('sends an anonymous visitor to the login form, which reports a wrong password', async () => {
    const page = await openPage(browser);
    await page.goto(`${srv.base}/agents`);
    await page.waitForURL(/\/login\?next=%2Fagents$/);
    await page.getByLabel('Email').fill(srv.admin.email);
    await page.getByRole('textbox', { name: 'Password' }).fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectText(page.getByRole('alert'), 'invalid email or password');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'login');
    await page.context().close();
  });

  it('logs an admin in to the calls page with Settings in the navigation, and out again', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.admin);
    expect(new URL(page.url()).pathname).toBe('/calls');
    await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
    expect(await page.getByTestId('whoami').textContent()).toBe(`${srv.admin.email} · admin`);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Overview', 'Live calls', 'Calls', 'Agents', 'Campaigns', 'Test call', 'Phone numbers', 'DNC list', 'Settings']);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    // The session is gone on the server too: a reload stays on the login form.
    await page.goto(`${srv.base}/calls`);
    await page.waitForURL(/\/login\?next=%2Fcalls$/);
    await page.context().close();
  });

  it('shows a viewer no Settings entry and refuses the Settings page', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).not.toContain('Settings');
    await page.goto(`${srv.base}/settings`);
    await expectText(page.getByRole('alert'), 'needs the admin role');
    await page.context().close();
  });
});

/** Waits until the locator's text contains `text` (Playwright's auto-wait; fails after its timeout). */
async function expectText(locator: import('playwright-core').Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}
