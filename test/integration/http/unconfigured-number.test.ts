import type { Knex } from 'knex';
import pino from 'pino';
import { listen } from '../../helpers/http';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { createApp } from '../../../src/http/app';
import { createTwilioRouter } from '../../../src/http/routes/twilio';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo, type AgentInput } from '../../../src/db/agents';
import { DEMO_AGENT } from '../../../src/db/seed';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';
import { NOT_IN_SERVICE_MESSAGE, notInServiceTwiml } from '../../../twiml/hangup';

const TOKEN = 'unconfigured-test-token';
const PUBLIC = 'https://voice.example.com';
const REJECT_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, this number is not in service.</Say><Hangup/></Response>';

const agentInput = (id: string): AgentInput => ({
  id,
  name: id,
  systemPrompt: 'Be helpful.',
  firstMessage: 'Hello!',
  defaultLanguage: 'en',
  languages: ['en'],
  voices: {},
  intents: [],
  handoffNumber: null,
  isDefault: false,
});

const randomNumber = () => `+1500${Math.floor(Math.random() * 1e7).toString().padStart(7, '0')}`;

/**
 * Routing of `POST /twilio/voice` by the called number against real PostgreSQL: archived agents take no new calls,
 * and UNCONFIGURED_NUMBER decides between the default agent and a spoken rejection (never a 500).
 */
describe('calls to unconfigured numbers and archived agents', () => {
  let db: Knex;
  let calls: CallsRepo;
  const servers: Array<() => Promise<void>> = [];
  let routeDefault: string;
  let routeReject: string;
  const live = uniqueSid('live-');
  const archived = uniqueSid('arch-');
  const liveNumber = randomNumber();
  const archivedNumber = randomNumber();

  const serve = async (d: { db: Knex; unconfiguredNumber?: 'default' | 'reject' }) => {
    const router = createTwilioRouter({ calls: new CallsRepo(d.db), agents: new AgentsRepo(d.db), authToken: TOKEN, publicBaseUrl: PUBLIC, logger: pino({ level: 'silent' }), unconfiguredNumber: d.unconfiguredNumber });
    const { base, close } = await listen(createApp({ logger: pino({ level: 'silent' }), routers: [router] }));
    servers.push(close);
    return base;
  };

  beforeAll(async () => {
    db = await setupTestDb();
    calls = new CallsRepo(db);
    const agents = new AgentsRepo(db);
    await agents.upsert(DEMO_AGENT); // the default agent ('support')
    await agents.upsert(agentInput(live));
    await agents.upsert(agentInput(archived));
    await agents.bindNumber(liveNumber, live);
    await agents.bindNumber(archivedNumber, archived);
    await db('agents').where({ id: archived }).update({ archived_at: db.fn.now() });
    routeDefault = await serve({ db });
    routeReject = await serve({ db, unconfiguredNumber: 'reject' });
  });

  afterAll(async () => {
    for (const close of servers) await close();
    await db.destroy();
  });

  const voice = async (base: string, to: string) => {
    const callSid = uniqueSid('CA');
    const params = { AccountSid: 'AC1', CallSid: callSid, From: '+14155550100', To: to, Direction: 'inbound', CallStatus: 'ringing' };
    const res = await fetch(base + '/twilio/voice', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(TOKEN, PUBLIC + '/twilio/voice', params) },
      body: new URLSearchParams(params).toString(),
    });
    return { callSid, status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };
  const agentOf = (body: string) => parseStreamTwiml(body).parameters.agentId;

  it('the reject TwiML is a spoken message then <Hangup/>, nothing else', () => {
    expect(notInServiceTwiml()).toBe(REJECT_TWIML);
    expect(REJECT_TWIML).toContain(`<Say>${NOT_IN_SERVICE_MESSAGE}</Say><Hangup/></Response>`);
  });

  it('UNCONFIGURED_NUMBER=default: a bound agent answers its number; an archived agent\'s number and an unbound one go to the default agent', async () => {
    const bound = await voice(routeDefault, liveNumber);
    expect(bound.status).toBe(200);
    expect(agentOf(bound.body)).toBe(live);
    const toArchived = await voice(routeDefault, archivedNumber);
    expect(agentOf(toArchived.body)).toBe('support');
    expect((await calls.get(toArchived.callSid))?.agentId).toBe('support');
    expect(agentOf((await voice(routeDefault, randomNumber())).body)).toBe('support');
  });

  it('UNCONFIGURED_NUMBER=reject: an archived agent\'s number and an unbound one hear the message and are hung up, with no call row', async () => {
    expect(agentOf((await voice(routeReject, liveNumber)).body)).toBe(live);
    for (const to of [archivedNumber, randomNumber()]) {
      const r = await voice(routeReject, to);
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/xml/);
      expect(r.body).toBe(REJECT_TWIML);
      expect(await calls.get(r.callSid)).toBeNull();
    }
  });

  it('with no live default agent (archived), an unconfigured number is rejected with the spoken message, not a 500', async () => {
    // In a transaction rolled back afterwards: other test files sharing this database keep their default agent.
    const trx = await db.transaction();
    try {
      await trx('agents').where({ is_default: true }).update({ archived_at: trx.fn.now() });
      const base = await serve({ db: trx });
      const r = await voice(base, archivedNumber);
      expect(r.status).toBe(200);
      expect(r.body).toBe(REJECT_TWIML);
      expect(await new CallsRepo(trx).get(r.callSid)).toBeNull();
    } finally {
      await trx.rollback();
    }
  });

  it('AgentsRepo.forNumber skips archived agents, bound or default', async () => {
    const repo = new AgentsRepo(db);
    expect((await repo.forNumber(liveNumber, { unconfigured: 'reject' }))?.id).toBe(live);
    expect((await repo.forNumber(archivedNumber))?.id).toBe('support');
    expect(await repo.forNumber(archivedNumber, { unconfigured: 'reject' })).toBeNull();
    // An archived agent is still readable by id (its calls keep referencing it).
    expect((await repo.get(archived))?.archivedAt).toEqual(expect.any(String));
  });
});
