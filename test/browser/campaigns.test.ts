import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';

/** Contacts with a header the wizard must map (Mobile → phone, "Full Name" → name) and one bad row (line 3). */
const CONTACTS_CSV = 'Mobile,Full Name,first_name,plan\n+14155550123,Ada Lovelace,Ada,gold\n12,Bad Number,Bob,silver\n(212) 555-0188,Grace Hopper,Grace,silver\n';

/** This run's campaign name (the Jest worker's test database outlives a run). */
const NAME = `December renewals ${process.pid}`;

/** Waits until the locator's text contains `text` (Playwright's auto-wait; fails after its timeout). */
async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}

/** Picks `option` in the Mantine Select labelled `label`. */
async function pick(page: Page, label: string, option: string): Promise<void> {
  await page.getByRole('combobox', { name: new RegExp(`^${label}`) }).click();
  await page.getByRole('option', { name: option }).click();
}

/**
 * The campaigns pages in Chromium against the real server: a supervisor creates a campaign through the wizard
 * (details, contacts CSV with its column mapping, window/pacing/retries, review), sees the server's rejected row
 * with its line, and opens the draft's detail page (counts per state, funnel, contacts); a viewer sees the list and
 * the detail page without the create and state buttons. No serious accessibility violation on any of them.
 */
describe('dashboard: campaigns (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    // One after the other: on a loaded machine the Vite build, the server's start and Chromium compete.
    srv = await startDashboardServer('campaigns');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('creates a draft campaign through the wizard and shows its rejected rows and detail page', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, '/campaigns');
    await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();

    // Step 1: "Next" with nothing filled in shows the problems instead of moving on.
    await page.getByRole('button', { name: 'Next' }).click();
    await expectText(page.locator('body'), 'Give the campaign a name.');
    await page.getByLabel('Name').fill(NAME);
    await pick(page, 'Agent', 'Acme Support (support)');
    await page.getByLabel(/^Caller IDs/).first().fill('+14155550100');
    await page.getByLabel(/^Caller IDs/).first().press('Enter');
    // Close the caller-ID suggestions (the numbers earlier suites left in this database): the list is navigated from
    // the input (aria-activedescendant), which axe's scrollable-region rule does not see.
    await page.getByLabel(/^Caller IDs/).first().press('Escape');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'campaign-wizard');
    await page.getByRole('button', { name: 'Next' }).click();

    // Step 2: the CSV preview maps Mobile → phone and Full Name → name by their headers; the rest are variables.
    await page.locator('input[type=file]').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(CONTACTS_CSV) });
    const mapping = page.getByRole('table', { name: 'Column mapping preview' });
    await mapping.waitFor();
    expect(await mapping.getByRole('combobox', { name: 'Mobile' }).inputValue()).toBe('phone');
    expect(await mapping.getByRole('combobox', { name: 'Full Name' }).inputValue()).toBe('name');
    expect(await mapping.getByRole('combobox', { name: 'plan' }).inputValue()).toBe('variable');
    await expectText(mapping, 'Grace Hopper');
    // Mapping a second column to phone is refused in the browser.
    await mapping.getByRole('combobox', { name: 'plan' }).selectOption('phone');
    await expectText(page.getByRole('alert'), 'Only one column can be phone.');
    await mapping.getByRole('combobox', { name: 'plan' }).selectOption('variable');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'campaign-wizard-contacts');
    await page.getByRole('button', { name: 'Next' }).click();

    // Step 3: window, pacing, retries; a ladder that is not durations is refused.
    await page.getByLabel('Delays after busy').fill('30m, soon');
    await page.getByRole('button', { name: 'Next' }).click();
    await expectText(page.locator('body'), '"soon" is not a duration');
    await page.getByLabel('Delays after busy').fill('30m, 2h');
    await page.getByLabel('Max concurrent calls').fill('2');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Next' }).click();

    // Step 4: review, then create the draft.
    const review = page.getByRole('table', { name: 'Review' });
    await expectText(review, '30m → 2h');
    await expectText(review, 'contacts.csv (Mobile → phone, Full Name → name, first_name → variable, plan → variable)');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create draft' }).click();
    await expectText(page.getByTestId('import-summary'), '2 contacts accepted, 1 rejected');
    const rejected = page.getByRole('table', { name: 'Rejected rows' });
    expect((await rejected.getByRole('row').nth(1).textContent())?.startsWith('3')).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // The server stored what the wizard showed.
    const row = await srv.db('campaigns').where({ name: NAME }).first('id', 'name', 'state', 'max_concurrent', 'retry');
    expect(row).toMatchObject({ state: 'draft', max_concurrent: 2 });
    expect(row.retry.delaysSeconds.busy).toEqual([1800, 7200]);
    const contacts = await srv.db('campaign_contacts').where({ campaign_id: row.id }).orderBy('phone').select('phone', 'name', 'variables');
    expect(contacts).toEqual([
      { phone: '+12125550188', name: 'Grace Hopper', variables: { first_name: 'Grace', plan: 'silver' } },
      { phone: '+14155550123', name: 'Ada Lovelace', variables: { first_name: 'Ada', plan: 'gold' } },
    ]);

    await page.getByRole('link', { name: 'Open the campaign' }).click();
    await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    expect(await page.getByTestId('campaign-state').textContent()).toBe('draft');
    await expectText(page.getByTestId('count-pending'), '2');
    await expectText(page.getByTestId('funnel-contacts'), '2');
    await expectText(page.getByRole('table', { name: 'Contacts' }), 'Ada Lovelace');
    expect(await page.getByRole('button', { name: 'Start' }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: 'CSV report' }).getAttribute('href')).toBe(`/api/campaigns/${row.id}/report.csv`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'campaign');

    await page.getByRole('link', { name: 'Campaigns' }).click();
    await expectText(page.getByRole('table'), NAME);
    await page.getByRole('progressbar', { name: `${NAME}: 0% of contacts finished` }).waitFor({ state: 'attached' }); // 0 %: zero width, so "hidden"
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'campaigns');
    await page.context().close();
  }, 300_000);

  it('shows the server\'s validation issues when it refuses the create body, and creates nothing', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.admin, '/campaigns/new');
    await page.getByLabel('Name').fill(`Bad region ${process.pid}`);
    await pick(page, 'Agent', 'Acme Support (support)');
    await page.getByLabel(/^Caller IDs/).first().fill('+14155550100');
    await page.getByLabel(/^Caller IDs/).first().press('Enter');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.locator('input[type=file]').setInputFiles({ name: 'c.csv', mimeType: 'text/csv', buffer: Buffer.from('phone\n+14155550123\n') });
    await page.getByRole('table', { name: 'Column mapping preview' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    // A date the browser's shape check (YYYY-MM-DD) lets through but the server's calendar check refuses.
    await page.getByLabel('Blackout dates', { exact: true }).first().fill('2026-02-30');
    await page.getByLabel('Blackout dates', { exact: true }).first().press('Enter');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create draft' }).click();
    await expectText(page.getByRole('alert'), 'window.blackoutDates.0');
    expect(await srv.db('campaigns').where({ name: `Bad region ${process.pid}` }).first()).toBeUndefined();
    await page.context().close();
  }, 180_000);

  it('shows a viewer the campaigns without New campaign or state buttons', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer, '/campaigns');
    await expectText(page.getByRole('table'), NAME);
    expect(await page.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
    await page.getByRole('link', { name: NAME }).click();
    await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    await page.getByRole('link', { name: 'CSV report' }).waitFor();
    expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel campaign' }).count()).toBe(0);
    await page.goto(`${srv.base}/campaigns/new`);
    await expectText(page.getByRole('alert'), 'needs the supervisor role');
    await page.context().close();
  }, 180_000);
});
