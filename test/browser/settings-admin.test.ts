import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { emitWebhookEvent } from '../../src/db/webhook-outbox';
import { createRedisConnection } from '../../src/jobs/queues';
import { createWebhookQueue } from '../../src/webhooks/delivery-queue';
import { signatureHeader } from '../../src/webhooks/send';
import { startWebhookDelivery } from '../../src/webhooks/start';
import { BROWSER_TEST_MS, launchChromium, loginThroughUi, openPage, saveScreenshot, seriousA11yViolations } from '../helpers/browser';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard';
import { waitFor } from '../helpers/async';

jest.setTimeout(BROWSER_TEST_MS);

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Settings → Webhook endpoints in Chromium against the real server, with the webhook relay and delivery worker
 * running in-process and a local receiver (127.0.0.1, allowed by WEBHOOK_ALLOW_PRIVATE_HOSTS): an admin adds an
 * endpoint, sees its signing secret once (deliveries verify with it), sees the endpoint listed, watches an event's
 * delivery appear in the log with its status, latency and the receiver's answer, replays it (the receiver gets the
 * same webhook-id again), rotates the secret and removes the endpoint. Settings links to Bull Board, whose page
 * runs under its own CSP. A viewer has no webhook panel.
 */
describe('admin settings: webhook endpoints and the queue monitor (browser)', () => {
  let srv: DashboardServer;
  let browser: Browser;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const WEBHOOK_PREFIX = `dash-webhooks-${process.pid}`;
  let delivery: ReturnType<typeof startWebhookDelivery>;
  const redis = [createRedisConnection('redis://127.0.0.1:6379', 'worker'), createRedisConnection('redis://127.0.0.1:6379', 'producer')];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('thanks from the receiver');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/calls`;
    [srv, browser] = await Promise.all([startDashboardServer('settings', { env: { WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1', WEBHOOK_RELAY_INTERVAL_MS: '200' } }), launchChromium()]);
    delivery = startWebhookDelivery({
      config: { ...srv.config, queuePrefix: WEBHOOK_PREFIX },
      db: srv.db,
      workerConnection: redis[0],
      producerConnection: redis[1],
      logger: pino({ level: 'silent' }),
    });
  }, 180_000);

  afterAll(async () => {
    await delivery?.stop();
    // This run's delivery queue (its own prefix) goes with it.
    const q = createWebhookQueue(redis[1], { prefix: WEBHOOK_PREFIX, attempts: 1 });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
    redis.forEach((r) => r.disconnect());
    await browser?.close();
    await srv?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('adds an endpoint with its secret shown once, logs and replays a delivery, rotates the secret and removes it', async () => {
    expect(delivery).not.toBeNull();
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.admin, '/settings/webhooks');
    await page.getByRole('tab', { name: 'Webhook endpoints', selected: true }).waitFor();
    // Nothing ticked: the API's validation message shows on the checkbox group.
    await page.getByRole('textbox', { name: 'URL' }).fill(receiverUrl);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('subscribe to at least one event type').waitFor();
    await page.getByRole('checkbox', { name: 'call.completed' }).check();
    await page.getByRole('checkbox', { name: 'campaign.completed' }).check();
    await page.getByRole('textbox', { name: 'Description' }).fill('Browser test receiver');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secretCode = page.getByTestId('webhook-secret');
    await secretCode.waitFor();
    const secret = (await secretCode.textContent())!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const row = page.getByTestId('webhook-endpoint-row').filter({ hasText: receiverUrl });
    await row.waitFor();
    expect(await row.textContent()).toContain('call.completed, campaign.completed');
    expect(await page.getByRole('switch', { name: `Enabled: ${receiverUrl}` }).isChecked()).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'settings-webhooks');

    // The engine emits an event; the relay and the worker deliver it, signed with the secret the page showed once.
    await emitWebhookEvent(srv.db, { type: 'campaign.completed', subject: { kind: 'campaign', id: 'cmp-browser' }, data: { campaignId: 'cmp-browser', finishedAt: new Date().toISOString() } });
    await waitFor('the receiver to get the event', async () => received.length >= 1, 30_000);
    const first = received[0];
    const msgId = first.headers['webhook-id'] as string;
    const at = new Date(Number(first.headers['webhook-timestamp']) * 1000);
    expect(first.headers['webhook-signature']).toBe(signatureHeader([secret], msgId, at, first.body));
    expect(JSON.parse(first.body)).toMatchObject({ type: 'campaign.completed', data: { campaignId: 'cmp-browser' } });
    // The secret is not on the page any more once dismissed, and never in the list.
    await page.getByRole('button', { name: 'Dismiss' }).click();
    expect(await page.getByText(secret).count()).toBe(0);

    // The delivery log (refreshed every 5 s) shows it delivered with the receiver's status, latency and answer.
    const deliveries = page.getByTestId('webhook-delivery-row');
    await deliveries.filter({ hasText: 'thanks from the receiver' }).first().waitFor();
    const logRow = (await deliveries.first().textContent())!;
    expect(logRow).toContain('campaign.completed');
    expect(logRow).toContain('delivered');
    expect(logRow).toContain('200');
    expect(logRow).toMatch(/\d+ ms/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'settings-webhook-deliveries');

    // Replay: the same webhook-id reaches the receiver again, and the log gains a second delivery.
    await page.getByRole('button', { name: /^Replay delivery/ }).first().click();
    await waitFor('the replayed event', async () => received.length >= 2, 30_000);
    expect(received[1].headers['webhook-id']).toBe(msgId);
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('[data-testid="webhook-delivery-row"]').length === 2);

    // Edit: drop call.completed and save.
    await page.getByRole('region', { name: `Endpoint ${receiverUrl}` }).getByRole('checkbox', { name: 'call.completed' }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await row.filter({ hasNotText: 'call.completed' }).waitFor();
    const [ep] = await srv.db('webhook_endpoints').where({ url: receiverUrl });
    expect(ep.event_types).toEqual(['campaign.completed']);

    // Rotate: a new secret, shown once, different from the first.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await secretCode.waitFor();
    const rotated = (await secretCode.textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await page.getByText(/also signed with the previous secret until/).waitFor();

    // An endpoint the worker disabled (every delivery failing) shows why, and its switch is off.
    await srv.db('webhook_endpoints').where({ url: receiverUrl }).update({ enabled: false, disabled_reason: 'every delivery failed for 3 days', disabled_at: new Date() });
    await page.reload();
    await page.getByRole('tab', { name: 'Webhook endpoints', selected: true }).waitFor();
    await row.filter({ hasText: 'Disabled: every delivery failed for 3 days' }).waitFor();
    expect(await page.getByRole('switch', { name: `Enabled: ${receiverUrl}` }).isChecked()).toBe(false);
    await page.getByRole('button', { name: `Manage ${receiverUrl}` }).click();

    // Delete needs a second, confirming click.
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await row.waitFor({ state: 'detached' });
    expect(await srv.db('webhook_endpoints').where({ url: receiverUrl })).toEqual([]);
    await page.context().close();
  });

  it('links an admin to the queue monitor, which Bull Board renders under its own CSP', async () => {
    const page = await openPage(browser);
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    await loginThroughUi(page, srv.base, srv.admin, '/settings');
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.getByRole('link', { name: 'Queue monitoring' }).click();
    await page.waitForURL(/\/api\/admin\/queues\/$/);
    // The board's React app ran (its scripts were allowed) and fetched the queues from its API.
    for (const name of ['post-call', 'knowledge', 'webhook-delivery']) await page.getByText(name, { exact: true }).first().waitFor();
    await page.getByText('Loading...').waitFor({ state: 'detached' });
    expect(failed).toEqual([]);
    // Only the board's Google Fonts stylesheet is refused (no third-party requests); nothing else.
    expect(blocked.filter((t) => !t.includes('fonts.googleapis.com'))).toEqual([]);
    await saveScreenshot(page, 'queues');
    await page.context().close();
  });

  it('gives a viewer no webhook endpoints panel', async () => {
    const page = await openPage(browser);
    await loginThroughUi(page, srv.base, srv.viewer, '/settings/webhooks');
    await page.getByText('This page needs the admin role.').waitFor();
    expect(await page.getByRole('tab', { name: 'Webhook endpoints' }).count()).toBe(0);
    expect(await page.getByRole('table', { name: 'Webhook endpoints' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await page.context().close();
  });
});
