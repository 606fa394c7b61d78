import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { AgentsRepo, type Agent } from '../../../src/db/agents';

const agent = (id: string, over: Partial<Agent> = {}): Agent => ({
  dtmfMenu: { '0': 'transfer' },
  ttsVoices: {},
  tools: [],
  vocabulary: [],
  extractionSchema: null,
  firstMessages: {},
  providers: {},
  llm: {},
  endpointing: {},
  maxCallDurationMs: null,
  voicemailMessage: null,
  optOutPhrases: [],
  recordCalls: true,
  recordingNotice: { enabled: false, text: {} },
  csatSurvey: { enabled: false },
  archivedAt: null,
  id,
  name: `Agent ${id}`,
  systemPrompt: 'Be helpful.',
  firstMessage: 'Hello!',
  defaultLanguage: 'en',
  languages: ['en', 'es'],
  voices: { en: 'en-us', es: 'es' },
  intents: ['hours', 'goodbye'],
  handoffNumber: '+15005550006',
  isDefault: false,
  ...over,
});

describe('AgentsRepo', () => {
  let db: Knex;
  let repo: AgentsRepo;
  let previousDefault: string | null = null;

  beforeAll(async () => {
    db = await setupTestDb();
    repo = new AgentsRepo(db);
    previousDefault = (await db('agents').where({ is_default: true }).first())?.id ?? null;
  });
  afterAll(async () => {
    // Leave the default agent as we found it for other test files sharing this worker's database (none: none).
    await db.transaction(async (trx) => {
      await trx('agents').update({ is_default: false });
      if (previousDefault) await trx('agents').where({ id: previousDefault }).update({ is_default: true });
    });
    await db.destroy();
  });

  it('upserts and reads back an agent with arrays and voices intact', async () => {
    const id = uniqueSid('ag-');
    const saved = await repo.upsert(agent(id));
    expect(saved).toEqual(agent(id));
    expect(await repo.get(id)).toEqual(agent(id));
    const updated = await repo.upsert(agent(id, { name: 'Renamed', intents: ['refund'], handoffNumber: null }));
    expect(updated.name).toBe('Renamed');
    expect((await repo.get(id))!.intents).toEqual(['refund']);
    expect((await repo.get(id))!.handoffNumber).toBeNull();
    expect((await repo.list()).filter((a) => a.id === id)).toHaveLength(1);
  });

  it('returns null for an unknown id and rejects invalid agents', async () => {
    expect(await repo.get(uniqueSid('nope-'))).toBeNull();
    await expect(repo.upsert(agent(uniqueSid('ag-'), { defaultLanguage: 'fr' }))).rejects.toThrow(/defaultLanguage/);
    await expect(repo.upsert(agent(uniqueSid('ag-'), { handoffNumber: '555-1234' }))).rejects.toThrow(/E\.164/);
    await expect(repo.upsert(agent('bad id with spaces'))).rejects.toThrow();
  });

  it('keeps at most one default agent', async () => {
    const a = uniqueSid('ag-');
    const b = uniqueSid('ag-');
    await repo.upsert(agent(a, { isDefault: true }));
    await repo.upsert(agent(b, { isDefault: true }));
    expect((await repo.get(a))!.isDefault).toBe(false);
    expect((await repo.get(b))!.isDefault).toBe(true);
    const defaults = (await repo.list()).filter((x) => x.isDefault);
    expect(defaults.map((x) => x.id)).toEqual([b]);
    expect((await repo.list())[0].id).toBe(b); // default listed first
  });

  it('forNumber: the bound agent, else the default agent', async () => {
    const bound = uniqueSid('ag-');
    const def = uniqueSid('ag-');
    await repo.upsert(agent(bound));
    await repo.upsert(agent(def, { isDefault: true }));
    const number = `+1500${Math.floor(Math.random() * 1e7).toString().padStart(7, '0')}`;
    await repo.bindNumber(number, bound);
    expect((await repo.forNumber(number))!.id).toBe(bound);
    expect((await repo.forNumber('+19999999999'))!.id).toBe(def);
  });

  it('forNumber returns null when nothing is bound and there is no default', async () => {
    // Inside a rolled-back transaction, so other tests sharing the database never see the default cleared.
    const trx = await db.transaction();
    try {
      await trx('agents').update({ is_default: false });
      expect(await new AgentsRepo(trx).forNumber('+19999999998')).toBeNull();
    } finally {
      await trx.rollback();
    }
  });
});
