import type { Browser, Page } from 'playwright-core';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { seedDashboardCall, startDashboardServer, type DashboardServer } from '../helpers/dashboard';

jest.setTimeout(BROWSER_TEST_MS);

/**
 * The dashboard's pages in Chromium against the real server: the calls list finds a stored call by its transcript
 * and opens it (timeline with the interrupted turn, latency waterfall, CSAT components, events); a supervisor gets
 * the agents API's validation message next to the field and creates an agent; a viewer sees no edit control on
 * agents, phone numbers or the DNC list; an admin sees settings and an API key's secret once. Every page: no
 * serious or critical axe violation, and a screenshot in docs/screenshots/.
 */
describe('dashboard pages (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;
  let callSid: string;
  // The test database outlives a run: names this run creates are unique.
  const run = Date.now().toString(36);

  beforeAll(async () => {
    [srv, browser] = await Promise.all([startDashboardServer('pages'), launchChromium()]);
    callSid = await seedDashboardCall(srv.db, { from: '+14155550177' });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Opens `path`, waits for its h1, checks axe and saves docs/screenshots/<shot>.png. */
  async function visit(page: Page, path: string, heading: string | RegExp, shot: string): Promise<void> {
    await page.goto(`${srv.base}${path}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.waitForLoadState('networkidle');
    expect([path, await seriousA11yViolations(page)]).toEqual([path, []]);
    await saveScreenshot(page, shot);
  }

  it('finds a call by its transcript and shows its timeline, latency waterfall, CSAT and events', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.admin);
    await page.getByLabel('Transcript contains').fill('refund');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/[?&]q=refund/);
    const link = page.locator(`a[href="/calls/${callSid}"]`);
    await link.waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'calls');
    // The export link carries the same filters.
    expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/api/calls.csv?q=refund');
    await link.click();
    await page.waitForURL(new RegExp(`/calls/${callSid}$`));
    await page.getByRole('heading', { level: 1, name: /Call/ }).waitFor();
    const turns = page.getByTestId('turn');
    await turns.first().waitFor();
    expect(await turns.count()).toBe(5);
    expect(await turns.nth(2).textContent()).toContain('interrupted');
    expect(await turns.nth(2).textContent()).toContain('Of course. Refunds take');
    // The rest of the cut reply, the part the caller did not hear: labelled, struck through.
    const unheard = turns.nth(2).getByTestId('unheard');
    expect(await unheard.textContent()).toBe('Caller cut in here; not heard: five to seven business days. Is there anything else?');
    expect(await unheard.locator('del').textContent()).toBe('five to seven business days. Is there anything else?');
    expect(await unheard.locator('del').evaluate((el) => (globalThis as any).getComputedStyle(el).textDecorationLine)).toBe('line-through');
    expect(await turns.nth(4).getByTestId('unheard').count()).toBe(0); // a reply heard in full has none
    expect(await page.getByTestId('latency-row').count()).toBe(2);
    expect(await page.getByRole('table', { name: 'Per-turn latency' }).textContent()).toContain('380 ms');
    expect(await page.getByRole('table', { name: 'CSAT components' }).textContent()).toContain('sentiment');
    expect(await page.getByRole('table', { name: 'Events' }).textContent()).toContain('barge_in');
    // Post-call analysis: the disposition badge and the summary (offline analyzer: the caller's request, the agent's answer).
    expect(await page.getByLabel('Disposition').textContent()).toBe('resolved');
    expect(await page.getByLabel('Summary').textContent()).toBe(
      'Caller: "I would like a refund for my last order." Agent: "Five to seven business days. Anything else?" The request was handled.',
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'call');
    await page.context().close();
  });

  it("shows the agents API's validation message next to the field, then creates the agent", async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.supervisor, '/agents/new');
    await page.getByRole('heading', { level: 1, name: 'New agent' }).waitFor();
    await page.getByRole('textbox', { name: 'Name' }).fill(`Browser agent ${run}`);
    await page.getByRole('textbox', { name: 'System prompt' }).fill('You answer briefly.');
    await page.getByRole('textbox', { name: 'First message' }).fill('Hello from the browser test.');
    await page.getByRole('textbox', { name: 'Handoff number' }).fill('not a number');
    await page.getByRole('button', { name: 'Create agent' }).click();
    const handoff = page.getByRole('textbox', { name: 'Handoff number' });
    // Mantine links the error text to the input (aria-describedby) and marks it invalid.
    await page.locator('input[aria-invalid="true"]').first().waitFor();
    expect(await handoff.getAttribute('aria-invalid')).toBe('true');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'agent-editor');
    await handoff.fill('+1 415 555 0100');
    // The extracted-fields schema is checked before anything is sent, with a message under the field.
    const schema = page.getByRole('textbox', { name: 'Extracted fields (JSON schema)' });
    await schema.fill('{ "type": "object", "properties": { "address": { "type": "object" } } }');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByText('"address": type must be one of string, number, integer, boolean').waitFor();
    expect(await schema.getAttribute('aria-invalid')).toBe('true');
    await schema.fill('{ "type": "object", "properties": { "orderNumber": { "type": "string" } } }');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(new RegExp(`/agents/browser-agent-${run}`));
    await page.getByRole('heading', { level: 1, name: `Agent Browser agent ${run}` }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Handoff number' }).inputValue()).toBe('+14155550100');
    expect(JSON.parse(await page.getByRole('textbox', { name: 'Extracted fields (JSON schema)' }).inputValue())).toEqual({ type: 'object', properties: { orderNumber: { type: 'string' } } });
    await page.context().close();
  });

  it('gives a viewer no edit controls on agents, phone numbers and the DNC list', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer);
    await visit(page, '/agents', 'Agents', 'agents');
    expect(await page.getByRole('button', { name: 'New agent' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New agent' }).count()).toBe(0);
    const first = page.getByRole('table', { name: 'Agents' }).getByRole('link').first();
    await first.click();
    await page.getByRole('heading', { level: 1, name: /^Agent / }).waitFor();
    expect(await page.getByRole('button', { name: /Save changes|Archive agent/ }).count()).toBe(0);
    expect(await page.getByRole('textbox', { name: 'Name' }).isDisabled()).toBe(true);
    await visit(page, '/phone-numbers', 'Phone numbers', 'phone-numbers');
    expect(await page.getByRole('button', { name: 'Add number' }).count()).toBe(0);
    await visit(page, '/dnc', 'DNC list', 'dnc');
    expect(await page.getByRole('button', { name: /^(Add|Import)$/ }).count()).toBe(0);
    await page.context().close();
  });

  it('shows an admin the users and a new API key once', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.admin);
    await visit(page, '/settings', 'Settings', 'settings-users');
    await page.getByRole('row').filter({ hasText: srv.viewer.email }).waitFor();
    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill(`browser key ${run}`);
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByTestId('new-api-key').textContent();
    expect(key).toMatch(/^cc_/);
    await page.getByRole('row').filter({ hasText: `browser key ${run}` }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'settings-api-keys');
    // Shown once: after a reload only the prefix is listed.
    await page.reload();
    await page.getByRole('row').filter({ hasText: `browser key ${run}` }).waitFor();
    expect(await page.content()).not.toContain(key!);
    await page.context().close();
  });
});
