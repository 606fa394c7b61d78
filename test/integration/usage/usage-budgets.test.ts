import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pino from 'pino';
import { listen } from '../../helpers/http';
import { serveRoutes } from '../../helpers/api-app';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { TwilioRestDouble } from '../../doubles/twilio-rest-double';
import { createApp } from '../../../src/http/app';
import { createTwilioRouter } from '../../../src/http/routes/twilio';
import { callRoutes } from '../../../src/http/api/calls';
import { usageRoutes } from '../../../src/http/api/usage';
import { CallsRepo } from '../../../src/db/calls';
import { AgentsRepo } from '../../../src/db/agents';
import { AuditRepo } from '../../../src/db/audit';
import { UsageRepo } from '../../../src/db/usage';
import { DEMO_AGENT } from '../../../src/db/seed';
import { UsageBudgets } from '../../../src/campaigns/budget';
import { TwilioDialer } from '../../../src/campaigns/dialer';
import { DialRefused } from '../../../src/campaigns/dialer-port';
import { signTwilioRequest } from '../../../src/telephony/signature';
import { parseStreamTwiml } from '../../../src/cli/twilio-simulator';

const TOKEN = 'usage-test-token';
const PUBLIC = 'https://voice.example.com';
const silent = pino({ level: 'silent' });

describe('usage, cost and monthly budgets (real PostgreSQL)', () => {
  let db: Knex;
  let twilio: { base: string; close: () => Promise<void> };
  let api: Awaited<ReturnType<typeof serveRoutes>>;
  let budgets: UsageBudgets;
  /** Providers unique to this run, so other suites' rows never count. */
  const llmId = `t${Date.now().toString(36)}.llm`;
  const sttId = `t${Date.now().toString(36)}.stt`;
  const budgeted = `t${Date.now().toString(36)}.budget`;
  const prices = { [llmId]: { llm_prompt: 1, llm_completion: 2 }, [budgeted]: { llm_prompt: 1 }, twilio: { telephony_inbound: 0.5, telephony_outbound: 0.75 } };
  let usage: UsageRepo;
  let calls: CallsRepo;

  beforeAll(async () => {
    db = await setupTestDb();
    usage = new UsageRepo(db, prices);
    calls = new CallsRepo(db, usage);
    const agents = new AgentsRepo(db);
    await agents.upsert(DEMO_AGENT);
    twilio = await listen(createApp({ logger: silent, routers: [createTwilioRouter({ calls, agents, authToken: TOKEN, publicBaseUrl: PUBLIC, logger: silent })] }));
    budgets = new UsageBudgets({ usage, audit: new AuditRepo(db), budgets: { [budgeted]: 10 }, logger: silent, cacheMs: 0 });
    api = await serveRoutes([...callRoutes({ calls }), ...usageRoutes({ usage, budgets })]);
  });

  afterAll(async () => {
    await api.close();
    await twilio.close();
    await db.destroy();
  });

  const post = (path: string, params: Record<string, string>) =>
    fetch(twilio.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(TOKEN, PUBLIC + path, params) },
      body: new URLSearchParams(params).toString(),
    });
  const inbound = async (): Promise<{ callSid: string; res: Response }> => {
    const callSid = uniqueSid('CA');
    const res = await post('/twilio/voice', { AccountSid: 'AC1', CallSid: callSid, From: '+14155550100', To: '+18005550199', Direction: 'inbound', CallStatus: 'ringing' });
    return { callSid, res };
  };

  it("costs each call's usage from the price table; Twilio's CallDuration becomes billed telephony minutes; the API shows and sums it", async () => {
    const { callSid, res } = await inbound();
    expect(res.status).toBe(200);
    await calls.addUsage(callSid, [
      { provider: llmId, kind: 'llm_prompt', quantity: 1000 },
      { provider: llmId, kind: 'llm_completion', quantity: 500 },
      { provider: sttId, kind: 'stt_audio', quantity: 30 },
    ]);
    const done = { AccountSid: 'AC1', CallSid: callSid, CallStatus: 'completed', CallDuration: '61', SequenceNumber: '3' };
    expect((await post('/twilio/status', done)).status).toBe(204);
    expect((await post('/twilio/status', done)).status).toBe(204); // a repeated callback counts once
    // A day of its own, so the summary holds exactly this call (an earlier run on this database left its own call there).
    await db('calls').where('started_at', '>=', '2034-03-07T00:00:00Z').andWhere('started_at', '<', '2034-03-08T00:00:00Z').delete();
    await db('calls').where({ call_sid: callSid }).update({ started_at: '2034-03-07T10:00:00Z' });

    const detail = (await (await fetch(`${api.base}/api/calls/${callSid}`, { headers: api.as('viewer') })).json()) as { usage: unknown };
    expect(detail.usage).toEqual({
      lines: [
        { provider: sttId, kind: 'stt_audio', quantity: 30, unit: 'seconds', costUsd: 0 },
        { provider: llmId, kind: 'llm_completion', quantity: 500, unit: 'tokens', costUsd: 0.001 },
        { provider: llmId, kind: 'llm_prompt', quantity: 1000, unit: 'tokens', costUsd: 0.001 },
        { provider: 'twilio', kind: 'telephony_inbound', quantity: 2, unit: 'minutes', costUsd: 1 },
      ].sort((a, b) => a.provider.localeCompare(b.provider) || a.kind.localeCompare(b.kind)),
      costUsd: 1.002,
    });

    const sum = (await (await fetch(`${api.base}/api/usage?from=2034-03-07&to=2034-03-08&groupBy=provider`, { headers: api.as('viewer') })).json()) as { groups: unknown[] };
    expect(sum).toMatchObject({ from: '2034-03-07T00:00:00.000Z', to: '2034-03-08T00:00:00.000Z', groupBy: 'provider', costUsd: 1.002 });
    expect(sum.groups).toEqual(
      expect.arrayContaining([
        { key: llmId, costUsd: 0.002, quantities: { llm_prompt: 1000, llm_completion: 500 } },
        { key: 'twilio', costUsd: 1, quantities: { telephony_inbound: 2 } },
        { key: sttId, costUsd: 0, quantities: { stt_audio: 30 } },
      ]),
    );
    const byDay = (await (await fetch(`${api.base}/api/usage?from=2034-03-07&to=2034-03-08&groupBy=day`, { headers: api.as('viewer') })).json()) as { groups: unknown[] };
    expect(byDay.groups).toEqual([{ key: '2034-03-07', costUsd: 1.002, quantities: { llm_completion: 500, llm_prompt: 1000, stt_audio: 30, telephony_inbound: 2 } }]);
    const bad = await fetch(`${api.base}/api/usage?from=2034-03-08&to=2034-03-07`, { headers: api.as('viewer') });
    expect(bad.status).toBe(400);
  });

  it('warns once at 80 % (audit + report), and at 100 % refuses new outbound dials with the reason while inbound calls go on', async () => {
    const audited = () => db('audit_log').where({ entity_type: 'usage_budget', entity_id: budgeted }).orderBy('id').pluck('action');
    const { callSid: first } = await inbound();
    await calls.addUsage(first, [{ provider: budgeted, kind: 'llm_prompt', quantity: 8_500_000 }]); // $8.50 of $10
    const warned = await budgets.report({ fresh: true });
    expect(warned.providers).toEqual([{ provider: budgeted, budgetUsd: 10, spentUsd: 8.5, ratio: 0.85, level: 'warning' }]);
    expect(warned.outboundBlocked).toBe(false);
    await budgets.report({ fresh: true });
    expect(await audited()).toEqual(['usage_budget.warning']); // once per month and provider
    expect(await budgets.blockedBy()).toBeNull();

    const { callSid: second } = await inbound();
    await calls.addUsage(second, [{ provider: budgeted, kind: 'llm_prompt', quantity: 1_500_000 }]); // $10.00: all of it
    const reason = await budgets.blockedBy();
    expect(reason).toContain(`${budgeted} $10.00 of $10.00`);
    expect(await audited()).toEqual(['usage_budget.warning', 'usage_budget.exceeded']);

    const rest = new TwilioRestDouble();
    const dialer = new TwilioDialer({ db, accountSid: 'AC0123', authToken: TOKEN, publicBaseUrl: PUBLIC, httpClient: rest.client, ringTimeoutS: 25, inProgressLeaseMs: 600_000, budget: budgets, logger: silent });
    const attemptId = randomUUID();
    await db('call_attempts').insert({ id: attemptId, attempt_no: 1, to_number: '+14155550123', from_number: '+18005550199', agent_id: DEMO_AGENT.id });
    const refused = await dialer.dial(attemptId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DialRefused);
    expect((refused as DialRefused).reason).toBe('budget');
    expect(rest.requests).toHaveLength(0);
    expect(await db('call_attempts').where({ id: attemptId }).first('status', 'error')).toEqual({ status: 'canceled', error: reason });

    const { res } = await inbound();
    expect(res.status).toBe(200);
    expect(parseStreamTwiml(await res.text()).url).toBe('wss://voice.example.com/twilio/media-stream');

    const report = await fetch(`${api.base}/api/usage/budgets`, { headers: api.as('admin') });
    expect(report.status).toBe(200);
    expect(await report.json()).toMatchObject({ outboundBlocked: true, providers: [{ provider: budgeted, level: 'exceeded' }] });
    expect((await fetch(`${api.base}/api/usage/budgets`, { headers: api.as('viewer') })).status).toBe(403);
  });
});
