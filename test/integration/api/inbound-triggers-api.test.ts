import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { serveRoutes } from '../../helpers/api-app';
import { createTestAgent, createTestCampaign } from '../../helpers/campaigns';
import { inboundTriggerRoutes } from '../../../src/http/api/inbound-triggers';
import { InboundTriggersRepo } from '../../../src/db/inbound-triggers';
import { SecretBox } from '../../../src/webhooks/secret-box';
import type { Role } from '../../../src/http/auth/principal';

/** `/api/inbound-triggers`: CRUD, secrets write-only (HubSpot given, Standard generated and shown once), roles. */
describe('inbound triggers admin API', () => {
  let db: Knex;
  let srv: Awaited<ReturnType<typeof serveRoutes>>;
  let agentId: string;
  const box = new SecretBox(randomBytes(32).toString('base64'));
  const call = async (method: string, path: string, body?: unknown, role: Role = 'admin') => {
    const res = await fetch(`${srv.base}${path}`, { method, headers: { ...srv.as(role), 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any), text: '' };
  };

  beforeAll(async () => {
    db = await setupTestDb();
    agentId = await createTestAgent(db);
    srv = await serveRoutes(inboundTriggerRoutes({ db, box }));
  });
  afterAll(async () => {
    await srv.close();
    await db.destroy();
  });

  it('creates a HubSpot trigger with a write-only secret, and a Standard one whose generated secret is shown once', async () => {
    const c = await createTestCampaign(db, agentId);
    const hub = await call('POST', '/api/inbound-triggers', { name: 'hs', kind: 'hubspot', secret: 'hubspot-client-secret', action: { type: 'enroll', campaignId: c.id }, mapping: { phone: 'properties.phone' } });
    expect(hub.status).toBe(201);
    expect(hub.body.secret).toBeNull();
    expect(hub.body.inboundTrigger).toMatchObject({ kind: 'hubspot', enabled: true, receiverPath: `/integrations/hubspot/webhook?trigger=${hub.body.inboundTrigger.id}` });
    expect(JSON.stringify(hub.body)).not.toContain('hubspot-client-secret');
    const stored = await new InboundTriggersRepo(db).get(hub.body.inboundTrigger.id);
    expect(stored!.secretSealed).not.toContain('hubspot-client-secret');
    expect(box.open(stored!.secretSealed)).toBe('hubspot-client-secret');

    const std = await call('POST', '/api/inbound-triggers', { name: 'std', kind: 'standard', action: { type: 'call', agentId, fromNumber: '+1 415 555 0100' }, mapping: { phone: 'phone', variables: { first_name: 'first' } } });
    expect(std.status).toBe(201);
    expect(std.body.secret).toMatch(/^whsec_/);
    expect(std.body.inboundTrigger.action).toEqual({ type: 'call', agentId, fromNumber: '+14155550100' });
    expect(box.open((await new InboundTriggersRepo(db).get(std.body.inboundTrigger.id))!.secretSealed)).toBe(std.body.secret);

    const got = await call('GET', `/api/inbound-triggers/${std.body.inboundTrigger.id}`, undefined, 'viewer');
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain('whsec_');
    const list = await call('GET', '/api/inbound-triggers', undefined, 'viewer');
    expect(list.body.inboundTriggers.map((t: any) => t.id)).toEqual(expect.arrayContaining([hub.body.inboundTrigger.id, std.body.inboundTrigger.id]));

    const patched = await call('PATCH', `/api/inbound-triggers/${hub.body.inboundTrigger.id}`, { enabled: false, secret: 'rotated-client-secret' });
    expect(patched.body.inboundTrigger.enabled).toBe(false);
    expect(box.open((await new InboundTriggersRepo(db).get(hub.body.inboundTrigger.id))!.secretSealed)).toBe('rotated-client-secret');
    expect((await call('PATCH', `/api/inbound-triggers/${std.body.inboundTrigger.id}`, { secret: 'whatever-secret' })).status).toBe(400);

    expect((await call('DELETE', `/api/inbound-triggers/${hub.body.inboundTrigger.id}`)).status).toBe(204);
    expect((await call('GET', `/api/inbound-triggers/${hub.body.inboundTrigger.id}`)).status).toBe(404);

    // Every write is in the audit log, without any secret.
    const audit = await db('audit_log').where({ entity_type: 'inbound_trigger', entity_id: hub.body.inboundTrigger.id }).orderBy('id').select('action', 'before', 'after');
    expect(audit.map((a) => a.action)).toEqual(['inbound_trigger.create', 'inbound_trigger.update', 'inbound_trigger.delete']);
    expect(audit[1].before).toMatchObject({ enabled: true });
    expect(audit[1].after).toMatchObject({ enabled: false });
    expect(audit[2].after).toBeNull();
    expect(JSON.stringify(audit)).not.toMatch(/client-secret|secretSealed/);
  });

  it('refuses bad input: HubSpot without a secret, Standard with one, unknown campaign or agent, missing mapping; viewers cannot write', async () => {
    const base = { name: 'x', mapping: { phone: 'p' } };
    expect((await call('POST', '/api/inbound-triggers', { ...base, kind: 'hubspot', action: { type: 'call', agentId } })).body.error).toMatch(/^body.secret: required/);
    expect((await call('POST', '/api/inbound-triggers', { ...base, kind: 'standard', secret: 'abcdefghij', action: { type: 'call', agentId } })).status).toBe(400);
    const noCampaign = await call('POST', '/api/inbound-triggers', { ...base, kind: 'standard', action: { type: 'enroll', campaignId: randomUUID() } });
    expect(noCampaign.status).toBe(400);
    expect(noCampaign.body.error).toMatch(/^body.action.campaignId: campaign .* does not exist/);
    expect((await call('POST', '/api/inbound-triggers', { ...base, kind: 'standard', action: { type: 'call', agentId: 'no-such-agent' } })).status).toBe(400);
    expect((await call('POST', '/api/inbound-triggers', { name: 'x', kind: 'standard', action: { type: 'call', agentId } })).status).toBe(400);
    expect((await call('POST', '/api/inbound-triggers', { ...base, kind: 'standard', action: { type: 'call', agentId } }, 'viewer')).status).toBe(403);
  });

  it('answers 503 on writes without a secrets key', async () => {
    const noKey = await serveRoutes(inboundTriggerRoutes({ db, box: null }));
    const res = await fetch(`${noKey.base}/api/inbound-triggers`, { method: 'POST', headers: { ...noKey.as('admin'), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', kind: 'standard', action: { type: 'call', agentId }, mapping: { phone: 'p' } }) });
    expect(res.status).toBe(503);
    await noKey.close();
  });
});
