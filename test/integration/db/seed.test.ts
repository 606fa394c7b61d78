import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { DEMO_AGENT, DEMO_KNOWLEDGE, seedDemo } from '../../../src/db/seed';
import { AgentsRepo } from '../../../src/db/agents';
import { KnowledgeRepo } from '../../../src/db/knowledge';
import { LocalHashEmbedder } from '../../../src/providers/embeddings/local-hash';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';

describe('seedDemo on every deploy', () => {
  let db: Knex;
  beforeAll(async () => {
    db = await setupTestDb();
  });
  afterAll(async () => {
    await new AgentsRepo(db).upsert(DEMO_AGENT);
    await db.destroy();
  });

  it("keeps an operator's edits to the agent and re-ingests only documents that are not ready", async () => {
    const deps = { embedder: new LocalHashEmbedder(), vectors: new PostgresVectorStore(db) };
    await seedDemo(db, deps);
    const agents = new AgentsRepo(db);
    await agents.upsert({ ...(await agents.get('support'))!, firstMessage: 'Operator greeting.' });
    const knowledge = new KnowledgeRepo(db);
    const refunds = await knowledge.findByTitle('support', DEMO_KNOWLEDGE[2].title);
    await knowledge.setStatus(refunds!.id, 'failed', 'simulated');
    const hours = await knowledge.findByTitle('support', DEMO_KNOWLEDGE[0].title);

    const r = await seedDemo(db, deps);
    expect(r.agent.firstMessage).toBe('Operator greeting.');
    expect((await agents.get('support'))!.firstMessage).toBe('Operator greeting.');
    expect((await knowledge.findByTitle('support', DEMO_KNOWLEDGE[2].title))!.status).toBe('ready');
    expect((await knowledge.findByTitle('support', DEMO_KNOWLEDGE[0].title))!.updatedAt).toEqual(hours!.updatedAt);
    expect(Object.values(r.chunks).every((n) => n > 0)).toBe(true);
  });
});
