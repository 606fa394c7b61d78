import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { AgentsRepo, type AgentInput } from '../../../src/db/agents';
import * as migration from '../../../migrations/20261202000100_agent_vocabulary';

const agent = (id: string, over: Partial<AgentInput> = {}): AgentInput => ({
  id,
  name: `Agent ${id}`,
  systemPrompt: 'Be helpful.',
  firstMessage: 'Hello!',
  defaultLanguage: 'en',
  languages: ['en'],
  voices: { en: 'en-us' },
  intents: [],
  handoffNumber: null,
  isDefault: false,
  ...over,
});

describe('agents.vocabulary (migration 20261202000100 + AgentsRepo)', () => {
  let db: Knex;
  let repo: AgentsRepo;

  beforeAll(async () => {
    db = await setupTestDb();
    repo = new AgentsRepo(db);
  });
  afterAll(() => db.destroy());

  it('round-trips the vocabulary, trimmed, in order; an update replaces it', async () => {
    const id = uniqueSid('voc-');
    const saved = await repo.upsert(agent(id, { vocabulary: ['Acme', '  Dashwood ', 'Acme Plus', 'clubs'] }));
    expect(saved.vocabulary).toEqual(['Acme', 'Dashwood', 'Acme Plus', 'clubs']);
    expect((await repo.get(id))!.vocabulary).toEqual(['Acme', 'Dashwood', 'Acme Plus', 'clubs']);
    expect((await db('agents').where({ id }).first()).vocabulary).toEqual(['Acme', 'Dashwood', 'Acme Plus', 'clubs']);
    await repo.upsert(agent(id, { vocabulary: ['Zeta'] }));
    expect((await repo.get(id))!.vocabulary).toEqual(['Zeta']);
    await repo.upsert(agent(id, { vocabulary: [] }));
    expect((await repo.get(id))!.vocabulary).toEqual([]);
  });

  it('defaults to an empty vocabulary (correction off): omitted on upsert, or a row written without the column', async () => {
    const omitted = uniqueSid('voc-');
    expect((await repo.upsert(agent(omitted))).vocabulary).toEqual([]);
    const raw = uniqueSid('voc-');
    await db('agents').insert({ id: raw, name: 'Raw', system_prompt: 'x', first_message: 'y', default_language: 'en', languages: ['en'], is_default: false });
    expect((await repo.get(raw))!.vocabulary).toEqual([]);
  });

  it('rejects empty entries, entries over 64 characters and more than 500 entries', async () => {
    await expect(repo.upsert(agent(uniqueSid('voc-'), { vocabulary: ['Acme', '   '] }))).rejects.toThrow(/must not be empty/);
    await expect(repo.upsert(agent(uniqueSid('voc-'), { vocabulary: ['x'.repeat(65)] }))).rejects.toThrow(/at most 64 characters/);
    await expect(repo.upsert(agent(uniqueSid('voc-'), { vocabulary: Array.from({ length: 501 }, (_, i) => `word${i}`) }))).rejects.toThrow(/at most 500/);
    const max = uniqueSid('voc-');
    const words = Array.from({ length: 500 }, (_, i) => `${'w'.repeat(60)}${i}`);
    expect((await repo.upsert(agent(max, { vocabulary: words }))).vocabulary).toEqual(words);
  });

  it('down() drops the column and up() adds it back, not null with an empty default', async () => {
    const id = uniqueSid('voc-');
    await repo.upsert(agent(id, { vocabulary: ['Acme'] }));
    // PostgreSQL DDL is transactional: run both directions inside a transaction and roll it back.
    const trx = await db.transaction();
    try {
      await migration.down(trx);
      expect(await trx.schema.hasColumn('agents', 'vocabulary')).toBe(false);
      await migration.up(trx);
      const col = await trx('information_schema.columns').where({ table_name: 'agents', column_name: 'vocabulary' }).first('is_nullable', 'column_default', 'udt_name');
      expect(col).toEqual({ is_nullable: 'NO', column_default: "'{}'::text[]", udt_name: '_text' });
      expect((await new AgentsRepo(trx).get(id))!.vocabulary).toEqual([]); // existing rows get the empty default
    } finally {
      await trx.rollback();
    }
    expect((await repo.get(id))!.vocabulary).toEqual(['Acme']);
  });
});
