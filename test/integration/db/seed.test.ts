import type { Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { DEMO_AGENT, DEMO_AGENT_V1, DEMO_KNOWLEDGE, seedDemo } from '../../../src/db/seed';
import { AgentsRepo } from '../../../src/db/agents';
import { KnowledgeRepo } from '../../../src/db/knowledge';
import { LocalHashEmbedder } from '../../../src/providers/embeddings/local-hash';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { LocalResponder } from '../../../src/providers/llm/local-responder';
import { retrieve } from '../../../src/knowledge/retrieve';

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

  describe('multilingual demo agent', () => {
    const deps = () => ({ embedder: new LocalHashEmbedder(), vectors: new PostgresVectorStore(db) });

    it('upgrades a support agent still exactly as the English-only seed made it, keeping its default flag', async () => {
      const agents = new AgentsRepo(db);
      const wasDefault = (await agents.get('support'))?.isDefault ?? false;
      await agents.upsert({ ...DEMO_AGENT_V1, isDefault: wasDefault });
      const r = await seedDemo(db, deps());
      const agent = (await agents.get('support'))!;
      expect(r.agent).toEqual(agent);
      expect(agent).toMatchObject({ languages: ['en', 'es', 'fr', 'de'], voices: { en: 'en-us', es: 'es', fr: 'fr-fr', de: 'de' }, defaultLanguage: 'en', isDefault: wasDefault });
      expect(agent.firstMessage).toBe(DEMO_AGENT_V1.firstMessage);
      expect(agent.systemPrompt).toBe(DEMO_AGENT.systemPrompt);
      expect(agent.systemPrompt).toMatch(/caller's language/);
      const knowledge = new KnowledgeRepo(db);
      for (const doc of DEMO_KNOWLEDGE) expect(await knowledge.findByTitle('support', doc.title)).toMatchObject({ status: 'ready', language: doc.language });
      expect(new Set(DEMO_KNOWLEDGE.map((d) => d.language))).toEqual(new Set(['en', 'es', 'fr', 'de']));
    });

    it('leaves an edited English-only agent alone and ingests no documents in languages it does not speak', async () => {
      const agents = new AgentsRepo(db);
      const wasDefault = (await agents.get('support'))?.isDefault ?? false;
      await agents.upsert({ ...DEMO_AGENT_V1, isDefault: wasDefault, handoffNumber: '+15005550999' });
      await new KnowledgeRepo(db).setStatus((await new KnowledgeRepo(db).findByTitle('support', 'Horario de atención'))!.id, 'failed', 'simulated');
      const r = await seedDemo(db, deps());
      expect(await agents.get('support')).toMatchObject({ languages: ['en'], handoffNumber: '+15005550999', systemPrompt: DEMO_AGENT_V1.systemPrompt });
      expect(Object.keys(r.chunks).sort()).toEqual(DEMO_KNOWLEDGE.filter((d) => d.language === 'en').map((d) => d.title).sort());
      expect((await new KnowledgeRepo(db).findByTitle('support', 'Horario de atención'))!.status).toBe('failed');
      await agents.upsert({ ...DEMO_AGENT, isDefault: wasDefault });
      await seedDemo(db, deps());
    });

    it.each([
      ['¿A qué hora abren los sábados?', 'Horario de atención', 'hours', /los sábados de 9 de la mañana a 5 de la tarde/],
      ['¿Dónde está mi pedido?', 'Estado del pedido', 'order_status', /Para seguir su pedido/],
      ['Quiero un reembolso de mi compra', 'Reembolsos y devoluciones', 'refund', /reembols/],
    ])('a Spanish caller asking %p gets the %s passage, and the local responder answers from it in Spanish', async (question, title, intent, answer) => {
      const { embedder, vectors } = deps();
      const passages = await retrieve({ embedder, vectors }, 'support', question, 3, { language: 'es' });
      expect(passages[0].title).toBe(title);
      const responder = new LocalResponder({ embedder });
      let text = '';
      let got = '';
      for await (const d of responder.chat({ system: DEMO_AGENT.systemPrompt, messages: [{ role: 'user', content: question }], passages, language: 'es', intents: DEMO_AGENT.intents }, new AbortController().signal)) {
        if (d.type === 'intent') got = d.intent;
        if (d.type === 'text') text += d.text;
      }
      expect(got).toBe(intent);
      expect(text).toMatch(answer);
      expect(passages.filter((p) => p.title === title).some((p) => p.text.includes(text.split('. ')[0]))).toBe(true);
    });
  });
});
