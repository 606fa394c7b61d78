import { setupTestDb } from '/work/main/test/helpers/db';
import { LocalHashEmbedder } from '/work/main/src/providers/embeddings/local-hash';
import { PostgresVectorStore } from '/work/main/src/providers/vector/postgres';
import { seedDemo } from '/work/main/src/db/seed';
import { retrieve } from '/work/main/src/knowledge/retrieve';
import { LocalResponder } from '/work/main/src/providers/llm/local-responder';
(async () => {
  const db = await setupTestDb();
  const embedder = new LocalHashEmbedder(); const vectors = new PostgresVectorStore(db);
  console.log(await seedDemo(db, { embedder, vectors }));
  const r = new LocalResponder({ embedder });
  const intents = ['hours','order_status','refund','human_handoff','goodbye'];
  for (const q of process.argv.slice(2)) {
    const ps = await retrieve({ embedder, vectors }, 'support', q, 3);
    const c = r.classify(q, intents);
    let text = ''; let intent: any;
    for await (const d of r.chat({ system: '', messages: [{ role: 'user', content: q }], passages: ps, language: 'en', intents }, new AbortController().signal)) { if (d.type === 'text') text += d.text; else intent = d; }
    console.log(JSON.stringify(q), '→', c.intent, c.scores, '\n   passages', ps.map(p => `${p.title}:${p.score.toFixed(3)}`).join(' | '), '\n   reply:', text);
  }
  await db.destroy();
})();
