import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { createTestAgent, randomUsPhone } from '../../helpers/campaigns';
import { singleCallRoutes } from '../../../src/http/api/single-call';
import { DialRefused, type DialerPort } from '../../../src/campaigns/dialer-port';
import { DncRepo } from '../../../src/db/dnc';
import type { Role } from '../../../src/http/auth/principal';

/** A DialerPort double: records each dial and answers with a fresh callSid (or what `next` says). */
class FakeDialer implements DialerPort {
  dials: string[] = [];
  next: Error | null = null;
  async dial(attemptId: string): Promise<{ callSid: string }> {
    this.dials.push(attemptId);
    if (this.next) {
      const e = this.next;
      this.next = null;
      throw e;
    }
    return { callSid: `CA${attemptId.replace(/-/g, '')}` };
  }
}

/** `POST /api/calls`: one outbound call, exactly once per Idempotency-Key. */
describe('single call API (POST /api/calls)', () => {
  let db: Knex;
  let dialer: FakeDialer;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let agentId: string;
  let agentFrom: string;

  const post = async (body: unknown, key: string | null, role: Role = 'supervisor') => {
    const res = await fetch(`${srv.base}/api/calls`, { method: 'POST', headers: { ...srv.as(role), ...(key === null ? {} : { 'idempotency-key': key }) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    agentFrom = randomUsPhone();
    await db('phone_numbers').insert({ e164: agentFrom, agent_id: agentId });
    dialer = new FakeDialer();
    srv = await serveRoutes(singleCallRoutes({ db, dialer }));
  });
  afterAll(async () => {
    await db('phone_numbers').where({ e164: agentFrom }).delete();
    await srv.close();
    await db.destroy();
  });

  it("dials once per key: 201, then the same answer (200) without dialing; the attempt row holds the call (from = the agent's number)", async () => {
    const key = randomUUID();
    const to = randomUsPhone();
    const body = { to: `+1 ${to.slice(2, 5)} ${to.slice(5)}`, agentId, variables: { 'First Name': 'Ada' } };
    const first = await post(body, key);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ attemptId: expect.any(String), callSid: `CA${first.body.attemptId.replace(/-/g, '')}`, status: 'requested' });
    expect(dialer.dials).toEqual([first.body.attemptId]);
    const row = await db('call_attempts').where({ id: first.body.attemptId }).first();
    expect(row).toMatchObject({ to_number: to, from_number: agentFrom, agent_id: agentId, idempotency_key: key, call_sid: first.body.callSid, variables: { first_name: 'Ada' }, campaign_id: null });
    // The same body (keys in another order) with the same key: the first answer, no second dial.
    const again = await post({ variables: { 'First Name': 'Ada' }, agentId, to }, key);
    expect([again.status, again.body]).toEqual([200, first.body]);
    expect(dialer.dials).toHaveLength(1);
  });

  it('the same key with a different body → 422; a missing or too long key → 400; an explicit from is used', async () => {
    const key = randomUUID();
    const to = randomUsPhone();
    const from = randomUsPhone();
    const r = await post({ to, agentId, from }, key);
    expect(r.status).toBe(201);
    expect((await db('call_attempts').where({ id: r.body.attemptId }).first()).from_number).toBe(from);
    const other = await post({ to: randomUsPhone(), agentId }, key);
    expect([other.status, other.body.error]).toEqual([422, expect.stringContaining('different request body')]);
    const missing = await post({ to, agentId }, null);
    expect([missing.status, missing.body.issues[0].path]).toEqual([400, 'headers.idempotency-key']);
    expect((await post({ to, agentId }, 'k'.repeat(201))).status).toBe(400);
    expect(dialer.dials).toHaveLength(2);
  });

  it('concurrent requests with one key dial once (one 201; the others the replay or "still dialing")', async () => {
    const key = randomUUID();
    const body = { to: randomUsPhone(), agentId };
    const before = dialer.dials.length;
    const all = await Promise.all(Array.from({ length: 5 }, () => post(body, key)));
    expect(dialer.dials.length - before).toBe(1);
    expect(all.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of all) expect([200, 201, 409]).toContain(r.status);
  });

  it('a DNC-listed number → 409 without dialing; the dialer refusing → 409, Twilio failing → 502, each replayed for the key', async () => {
    const listed = randomUsPhone();
    await new DncRepo(db).add({ number: listed, source: 'api', provenance: {} });
    const before = dialer.dials.length;
    const r = await post({ to: listed, agentId }, randomUUID());
    expect([r.status, r.body.error]).toEqual([409, `${listed} is on the do-not-call list`]);
    expect(dialer.dials.length).toBe(before);

    const key = randomUUID();
    dialer.next = new DialRefused('dnc', 'listed at dial time');
    const refused = await post({ to: randomUsPhone(), agentId }, key);
    expect([refused.status, refused.body.error]).toEqual([409, 'listed at dial time']);
    const stored = await db('call_attempts').where({ idempotency_key: key }).first();
    expect(stored).toMatchObject({ status: 'failed', call_sid: null });
    const replay = await post({ to: stored.to_number, agentId }, key);
    expect([replay.status, replay.body.error]).toEqual([409, 'listed at dial time']);

    dialer.next = new Error('Twilio 21211: invalid To');
    const failed = await post({ to: randomUsPhone(), agentId }, randomUUID());
    expect([failed.status, failed.body.error]).toEqual([502, expect.stringContaining('21211')]);
  });

  it('unknown agent 404, agent without numbers and no from → 400, no dialer → 503, viewer 403', async () => {
    expect((await post({ to: randomUsPhone(), agentId: 'no-such-agent' }, randomUUID())).status).toBe(404);
    const bare = await createTestAgent(db);
    const r = await post({ to: randomUsPhone(), agentId: bare }, randomUUID());
    expect([r.status, r.body.issues?.[0].path]).toEqual([400, 'body.from']);
    expect((await post({ to: randomUsPhone(), agentId }, randomUUID(), 'viewer')).status).toBe(403);
    const noDialer = await serveRoutes(singleCallRoutes({ db }));
    try {
      const res = await fetch(`${noDialer.base}/api/calls`, { method: 'POST', headers: { ...noDialer.as('supervisor'), 'idempotency-key': 'x' }, body: JSON.stringify({ to: randomUsPhone(), agentId }) });
      expect(res.status).toBe(503);
    } finally {
      await noDialer.close();
    }
  });
});
