import type { Knex } from 'knex';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { AgentsRepo } from '../../../src/db/agents';
import { KnowledgeRepo } from '../../../src/db/knowledge';
import { DEMO_AGENT, DEMO_KNOWLEDGE, seedDemo } from '../../../src/db/seed';
import { agentNamespace, ingestDocument } from '../../../src/knowledge/ingest';
import { retrieve } from '../../../src/knowledge/retrieve';
import { LocalHashEmbedder } from '../../../src/providers/embeddings/local-hash';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { ProviderError } from '../../../src/providers/errors';
import { LocalResponder } from '../../../src/providers/llm/local-responder';

/** An embedder whose backend is down: every call fails like a real provider outage would. */
class FailingEmbedder extends LocalHashEmbedder {
  override async embed(): Promise<Float32Array[]> {
    throw new ProviderError('failing', 'upstream unavailable', { retryable: true, status: 503 });
  }
}

describe('knowledge ingestion and retrieval', () => {
  let db: Knex;
  const embedder = new LocalHashEmbedder();
  let vectors: PostgresVectorStore;
  let repo: KnowledgeRepo;
  let agentId: string;

  const vectorCount = async (ns: string, documentId?: string) => {
    const q = db('vector_items').where({ namespace: ns });
    if (documentId) q.whereRaw(`metadata->>'documentId' = ?`, [documentId]);
    return Number((await q.count<{ c: string }[]>('* as c'))[0].c);
  };

  beforeAll(async () => {
    db = await setupTestDb();
    vectors = new PostgresVectorStore(db);
    repo = new KnowledgeRepo(db);
    agentId = uniqueSid('kb-');
    await new AgentsRepo(db).upsert({ ...DEMO_AGENT, id: agentId, isDefault: false });
  });
  afterAll(() => db.destroy());

  it('ingests a document: chunks stored, vectors upserted with metadata, status ready', async () => {
    const text = Array.from({ length: 12 }, (_, i) => `Fact number ${i} about our warranty covers part ${i} for two years.`).join(' ');
    const r = await ingestDocument({ db, embedder, vectors, chunking: { maxChars: 200, overlapChars: 60 } }, { agentId, title: 'Warranty', text, language: 'en' });
    expect(r.document.status).toBe('ready');
    expect(r.chunks).toBeGreaterThan(2);
    const doc = await repo.get(r.document.id);
    expect(doc).toMatchObject({ status: 'ready', error: null, title: 'Warranty', agentId });
    const chunks = await repo.chunks(r.document.id);
    expect(chunks.map((c) => c.ord)).toEqual(chunks.map((_, i) => i));
    expect(chunks[0].id).toBe(`${r.document.id}:0`);
    expect(await vectorCount(agentNamespace(agentId), r.document.id)).toBe(chunks.length);
    const row = await db('vector_items').where({ namespace: `agent:${agentId}`, id: chunks[1].id }).first();
    expect(row.metadata).toEqual({ documentId: r.document.id, agentId, title: 'Warranty', text: chunks[1].text, language: 'en', ord: 1 });
    expect(row.embedding).toHaveLength(384);
  });

  it('re-uploading the same title replaces the document, its chunks and its vectors', async () => {
    const long = Array.from({ length: 20 }, (_, i) => `Old sentence ${i} about gift cards and vouchers.`).join(' ');
    const first = await ingestDocument({ db, embedder, vectors }, { agentId, title: 'Gift cards', text: long });
    expect(first.chunks).toBeGreaterThan(1);
    const second = await ingestDocument({ db, embedder, vectors }, { agentId, title: 'Gift cards', text: 'Gift cards never expire.' });
    expect(second.document.id).toBe(first.document.id);
    expect(second.chunks).toBe(1);
    expect((await repo.listDocuments(agentId)).filter((d) => d.title === 'Gift cards')).toHaveLength(1);
    expect((await repo.chunks(first.document.id)).map((c) => c.text)).toEqual(['Gift cards never expire.']);
    expect(await vectorCount(agentNamespace(agentId), first.document.id)).toBe(1);
    const [hit] = await retrieve({ embedder, vectors }, agentId, 'do gift cards expire', 1);
    expect(hit.text).toBe('Gift cards never expire.');
  });

  it('marks the document failed with the error when embedding fails, and rethrows', async () => {
    const err = await ingestDocument({ db, embedder: new FailingEmbedder(), vectors }, { agentId, title: 'Broken', text: 'Some text.' }).catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    const doc = await repo.findByTitle(agentId, 'Broken');
    expect(doc).toMatchObject({ status: 'failed', error: 'failing: upstream unavailable' });
    // A later successful upload of the same title recovers it.
    await ingestDocument({ db, embedder, vectors }, { agentId, title: 'Broken', text: 'Now it works.' });
    expect(await repo.findByTitle(agentId, 'Broken')).toMatchObject({ status: 'ready', error: null });
  });

  it('rejects invalid input before writing anything', async () => {
    await expect(ingestDocument({ db, embedder, vectors }, { agentId, title: 'Empty', text: '   ' })).rejects.toThrow(/blank/);
    await expect(ingestDocument({ db, embedder, vectors }, { agentId, title: 'Lang', text: 'x', language: 'english' })).rejects.toThrow(/639-1/);
    expect(await repo.findByTitle(agentId, 'Empty')).toBeNull();
  });

  it('restricts retrieval by language and keeps agents apart', async () => {
    await ingestDocument({ db, embedder, vectors }, { agentId, title: 'Horario', text: 'Abrimos de lunes a viernes de 8 a 20 horas.', language: 'es' });
    const es = await retrieve({ embedder, vectors }, agentId, 'horario lunes viernes', 3, { language: 'es' });
    expect(es.map((p) => p.title)).toEqual(['Horario']);
    const en = await retrieve({ embedder, vectors }, agentId, 'horario lunes viernes', 3, { language: 'en' });
    expect(en.map((p) => p.title)).not.toContain('Horario');
    expect(await retrieve({ embedder, vectors }, uniqueSid('other-'), 'horario', 3)).toEqual([]);
    expect(await retrieve({ embedder, vectors }, agentId, '  ', 3)).toEqual([]);
  });

  describe('demo seed', () => {
    beforeAll(async () => {
      await seedDemo(db, { embedder, vectors });
      await seedDemo(db, { embedder, vectors }); // idempotent
    });

    it('creates the support agent once, as the default, with four ready documents and no duplicate chunks', async () => {
      expect((await db('agents').where({ is_default: true }).select('id')).map((r) => r.id)).toEqual(['support']);
      const agent = await new AgentsRepo(db).get('support');
      expect(agent).toMatchObject({ name: 'Acme Support', isDefault: true, languages: ['en', 'es', 'fr', 'de'], voices: { en: 'en-us', es: 'es', fr: 'fr-fr', de: 'de' }, handoffNumber: '+15005550006' });
      expect(agent!.intents).toEqual(['hours', 'order_status', 'refund', 'human_handoff', 'goodbye']);
      expect((await new AgentsRepo(db).forNumber('+18005550199'))!.id).toBe('support');
      const docs = await repo.listDocuments('support');
      expect(docs.map((d) => d.title).sort()).toEqual(DEMO_KNOWLEDGE.map((d) => d.title).sort());
      expect(docs.every((d) => d.status === 'ready')).toBe(true);
      let chunkTotal = 0;
      for (const d of docs) chunkTotal += (await repo.chunks(d.id)).length;
      expect(await vectorCount(agentNamespace('support'))).toBe(chunkTotal);
    });

    it('feeds the local responder: retrieved passages become a spoken answer', async () => {
      const responder = new LocalResponder({ embedder });
      const ask = async (question: string) => {
        const passages = await retrieve({ embedder, vectors }, 'support', question, 3, { language: 'en' });
        let text = '';
        let intent = '';
        for await (const d of responder.chat({ system: DEMO_AGENT.systemPrompt, messages: [{ role: 'user', content: question }], passages, language: 'en', intents: DEMO_AGENT.intents }, new AbortController().signal)) {
          if (d.type === 'intent') intent = d.intent;
          if (d.type === 'text') text += d.text;
        }
        return { intent, text };
      };
      const refund = await ask('I want my money back');
      expect(refund.intent).toBe('refund');
      expect(refund.text).toMatch(/30 days/);
      const hours = await ask('when are you open');
      expect(hours.intent).toBe('hours');
      expect(hours.text).toMatch(/Monday to Friday/);
      const order = await ask('where is my order');
      expect(order.intent).toBe('order_status');
      expect(order.text).toMatch(/order/i);
    });

    it.each([
      ['I want my money back', 'Refunds and returns', /30 days/],
      ['when are you open', 'Opening hours', /Monday to Friday/],
      ['how can I track my order', 'Order status', /track your order/i],
      ['can I talk to a person', 'Talking to a person', /human agent/],
    ])('retrieves for %p the %s passage first', async (query, title, content) => {
      const passages = await retrieve({ embedder, vectors }, 'support', query, 3, { language: 'en' });
      expect(passages[0].title).toBe(title);
      expect(passages.filter((p) => p.title === title).some((p) => content.test(p.text))).toBe(true);
      expect(passages[0].score).toBeGreaterThan(passages[passages.length - 1].score);
    });
  });
});
