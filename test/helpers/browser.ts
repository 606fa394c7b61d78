import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/bootstrap.sh installs it): Playwright's own browser download cannot run here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the browser suite saves page screenshots (shown in the README). */
export const SCREENSHOTS_DIR = join(__dirname, '..', '..', 'docs', 'screenshots');

/** Launches headless Chromium (`extraArgs` e.g. the fake-microphone flags). Close it in afterAll. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', ...extraArgs] });
}

/** How long a Playwright action or wait may take (ms): generous, the suite shares 2 cores with builds and other suites. */
export const BROWSER_WAIT_MS = 90_000;

/** Jest timeout of one browser test (ms): several page loads, each with an axe scan. */
export const BROWSER_TEST_MS = 300_000;

/** A page in a fresh browser context (own cookies; axe needs a context-created page). Close with `page.context().close()`. */
export async function openPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  return context.newPage();
}

/**
 * Accessibility problems of the page as it is now (axe-core, WCAG 2.0/2.1 A and AA rules): each serious or critical
 * violation as `rule-id: help (n nodes: selector, …)`. A test expects `[]`.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
}

/** Saves a full-page screenshot to docs/screenshots/<name>.png. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}

/** Logs in through the login form and waits for the signed-in frame (the "who am I" line). */
export async function loginThroughUi(page: Page, base: string, user: { email: string; password: string }, path = '/calls'): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByRole('textbox', { name: 'Password' }).fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('whoami').waitFor();
}
