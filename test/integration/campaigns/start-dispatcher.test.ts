import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import pino from 'pino';
import type { Knex } from 'knex';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { waitFor } from '../../helpers/async';
import { addContacts, makeCampaign, quiesceCampaigns } from '../../helpers/campaign-fixtures';
import { TwilioRestDouble } from '../../doubles/twilio-rest-double';
import { loadConfig } from '../../../src/config';
import { startDispatcher } from '../../../src/campaigns/start-dispatcher';

/**
 * The worker's dispatcher as `workers/main.ts` builds it from Config, dialing over real HTTP to a Twilio emulator at
 * TWILIO_API_BASE_URL (the REST double behind a tiny HTTP server, form-decoded like Twilio's API).
 */
let db: Knex;
let redis: Redis;
let emulator: http.Server;
let base: string;
const rest = new TwilioRestDouble();
const auths: string[] = [];

beforeAll(async () => {
  db = await setupTestDb();
  await quiesceCampaigns(db);
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  emulator = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      auths.push(req.headers.authorization ?? '');
      const form = new URLSearchParams(body);
      const data: Record<string, unknown> = {};
      for (const k of new Set(form.keys())) data[k] = form.getAll(k).length > 1 ? form.getAll(k) : form.get(k);
      const r = await rest.request({ method: req.method!, uri: `https://api.twilio.com${req.url}`, data });
      res.writeHead(r.statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => emulator.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(emulator.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await db('campaigns').where('id', 'like', 'cmp_%').update({ state: 'cancelled' });
  await new Promise((r) => emulator.close(r));
  redis.disconnect();
  await db.destroy();
});

it('dials a running campaign through TWILIO_API_BASE_URL and stops cleanly', async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    TWILIO_ACCOUNT_SID: 'AC33333333333333333333333333333333',
    TWILIO_AUTH_TOKEN: 'start-dispatcher-token',
    TWILIO_API_BASE_URL: base,
    DISPATCH_INTERVAL_MS: '50',
    QUEUE_PREFIX: `test-dispatch-${process.pid}`,
  });
  // A zone where it is around noon now, so the every-day window is open whatever the wall clock says.
  const offset = 12 - new Date().getUTCHours();
  const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const campaignId = await makeCampaign(db, { maxConcurrent: 2, cps: 50 });
  await addContacts(db, campaignId, 2, { timezones: [zone] });
  const dispatcher = startDispatcher({ config, db, redis, logger: pino({ level: 'silent' }) });
  try {
    await waitFor('two dials', async () => rest.created.length >= 2);
    expect(rest.created.map((c) => c.url)).toEqual(expect.arrayContaining([expect.stringMatching(/^https:\/\/localhost:3000\/twilio\/outbound\/voice\?attemptId=/)]));
    expect(rest.created[0]).toMatchObject({ machineDetection: 'DetectMessageEnd', asyncAmd: 'true', timeout: 25, statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'] });
    expect(auths[0]).toBe(`Basic ${Buffer.from('AC33333333333333333333333333333333:start-dispatcher-token').toString('base64')}`);
    await waitFor('contacts in progress', async () => (await db('campaign_contacts').where({ campaign_id: campaignId, state: 'in-progress' })).length === 2);
  } finally {
    await dispatcher.stop();
    const keys = await redis.keys(`test-dispatch-${process.pid}:*`);
    if (keys.length) await redis.del(...keys);
  }
});
