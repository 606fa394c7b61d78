import type { Knex } from 'knex';
import { CampaignsRepo } from '../../../src/db/campaigns';
import { DispatchRepo } from '../../../src/db/dispatch';
import { emitWebhookEvent } from '../../../src/db/webhook-outbox';
import { addContacts, makeCampaign } from '../../helpers/campaign-fixtures';
import { setupTestDb } from '../../helpers/db';

/** The outbox rows of a subject, in sequence order: [type, sequence, data]. */
const eventsOf = async (db: Knex, id: string) =>
  (await db('webhook_outbox').where({ subject_id: id }).whereNull('target_endpoint_id').orderBy('sequence').select('type', 'sequence', 'payload')).map((r) => [r.type, r.sequence, r.payload.data]);

describe('webhook events are written with the state changes they report', () => {
  let db: Knex;
  beforeAll(async () => {
    db = await setupTestDb();
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('numbers a campaign’s events: started, paused (breaker), resumed, completed', async () => {
    const id = await makeCampaign(db, { state: 'draft' });
    const campaigns = new CampaignsRepo(db);
    const dispatch = new DispatchRepo(db);
    await campaigns.transaction((repo) => repo.setState(id, 'running'));
    expect(await dispatch.pause(id, 'dial breaker: 5 of the last 10 dials refused', new Date())).toBe(true);
    expect(await dispatch.pause(id, 'again', new Date())).toBe(false); // not running: no second event
    await campaigns.transaction((repo) => repo.setState(id, 'running'));
    const [contact] = await addContacts(db, id, 1);
    await db('campaign_contacts').where({ id: contact }).update({ state: 'done' });
    expect(await dispatch.completeFinished(new Date())).toContain(id);
    const events = await eventsOf(db, id);
    expect(events.map(([t, s]) => [t, s])).toEqual([
      ['campaign.started', 1],
      ['campaign.paused', 2],
      ['campaign.started', 3],
      ['campaign.completed', 4],
    ]);
    expect(events[0][2]).toMatchObject({ campaignId: id, resumed: false });
    expect(events[1][2]).toMatchObject({ reason: 'dial breaker: 5 of the last 10 dials refused' });
    expect(events[2][2]).toMatchObject({ resumed: true });
  });

  it('writes nothing when the state change rolls back, and validates data against the catalog', async () => {
    const id = `cmp_rollback_${Date.now()}`;
    await expect(
      db.transaction(async (trx) => {
        await emitWebhookEvent(trx, { type: 'campaign.paused', subject: { kind: 'campaign', id }, data: { campaignId: id, reason: null } });
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    expect(await eventsOf(db, id)).toEqual([]);
    await expect(emitWebhookEvent(db, { type: 'campaign.paused', subject: { kind: 'campaign', id }, data: { campaignId: 42 } as never })).rejects.toThrow(/expected string/);
  });
});
