import type { Knex } from 'knex';
import pino from 'pino';
import { setupTestDb, uniqueSid } from '../../helpers/db';
import { minimalPdf } from '../../helpers/pdf';
import { startTestApi, TEST_API_KEY as API_KEY, type TestApi } from '../../helpers/auth-api';
import { managementRoutes } from '../../../src/http/api';
import { createKnowledgeRouter } from '../../../src/http/routes/knowledge';
import { AgentsRepo } from '../../../src/db/agents';
import { CallsRepo } from '../../../src/db/calls';
import { KnowledgeRepo } from '../../../src/db/knowledge';
import { createRedisConnection } from '../../../src/jobs/queues';
import { createKnowledgeQueue, knowledgeJobId, type KnowledgeQueue } from '../../../src/jobs/knowledge-queue';
import { agentNamespace } from '../../../src/knowledge/ingest';
import { retrieve } from '../../../src/knowledge/retrieve';
import { LocalHashEmbedder } from '../../../src/providers/embeddings/local-hash';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { ProviderError } from '../../../src/providers/errors';
import { startWorkers, type RunningWorkers } from '../../../workers';
import { waitFor } from '../../helpers/async';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-knowledge-${process.pid}-${Date.now().toString(36)}`;
const MAX_UPLOAD = 32 * 1024;
const logger = pino({ level: 'silent' });

/**
 * The local embedder, with two failure modes triggered by a marker in the text (so one worker serves every test):
 * `EMBEDDER-REJECTS` → a permanent provider error (like a 400), `EMBEDDER-OUTAGE` → a retryable one (503).
 */
class ScriptedEmbedder extends LocalHashEmbedder {
  override async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.some((t) => t.includes('EMBEDDER-REJECTS'))) throw new ProviderError('test.embedder', 'input rejected (HTTP 400)', { retryable: false, status: 400 });
    if (texts.some((t) => t.includes('EMBEDDER-OUTAGE'))) throw new ProviderError('test.embedder', 'upstream unavailable (HTTP 503)', { retryable: true, status: 503 });
    return super.embed(texts);
  }
}


const json = (res: Response): Promise<any> => res.json();

describe('knowledge API + ingestion worker', () => {
  let db: Knex;
  let base: string;
  let api: TestApi;
  let producer: ReturnType<typeof createRedisConnection>;
  let workerConn: ReturnType<typeof createRedisConnection>;
  let queue: KnowledgeQueue;
  let workers: RunningWorkers;
  let repo: KnowledgeRepo;
  const embedder = new ScriptedEmbedder();
  let vectors: PostgresVectorStore;
  const agentId = uniqueSid('kbapi-');
  const auth = { authorization: `Bearer ${API_KEY}` };
  const kb = (path = '') => `${base}/api/agents/${agentId}/knowledge${path}`;

  const postJson = (body: unknown, url = kb()) => fetch(url, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const postFile = (name: string, data: Uint8Array | string, type: string, fields: Record<string, string> = {}, url = kb()) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type }), name);
    return fetch(url, { method: 'POST', headers: auth, body: form });
  };
  const getDoc = async (id: string) => (await json(await fetch(kb(`/${id}`), { headers: auth }))).document;
  const settled = (id: string) => waitFor(`document ${id} to settle`, async () => {
    const d = await getDoc(id);
    return d.status !== 'pending' && d;
  });
  const vectorTexts = async (documentId: string): Promise<string[]> =>
    (await db('vector_items').where({ namespace: agentNamespace(agentId) }).whereRaw(`metadata->>'documentId' = ?`, [documentId]).orderBy('id')).map((r) => r.metadata.text);

  beforeAll(async () => {
    db = await setupTestDb();
    vectors = new PostgresVectorStore(db);
    repo = new KnowledgeRepo(db);
    const agents = new AgentsRepo(db);
    await agents.upsert({
      id: agentId,
      name: 'Knowledge API agent',
      systemPrompt: 'Be brief.',
      firstMessage: 'Hi!',
      defaultLanguage: 'en',
      languages: ['en', 'es'],
      voices: { en: 'en-us', es: 'es' },
      intents: ['hours'],
      handoffNumber: null,
      isDefault: false,
    });
    producer = createRedisConnection(REDIS_URL, 'producer');
    workerConn = createRedisConnection(REDIS_URL, 'worker');
    queue = createKnowledgeQueue(producer, { prefix: PREFIX, attempts: 2, backoffMs: 50 });
    workers = startWorkers({ db, connection: workerConn, prefix: PREFIX, logger, crm: { maxAttempts: 1, retryBaseMs: 10 }, knowledge: { embedder, vectors } });
    api = await startTestApi({ db, routes: managementRoutes({ db, calls: new CallsRepo(db) }), routers: [createKnowledgeRouter({ db, agents, vectors, queue, maxUploadBytes: MAX_UPLOAD })] });
    base = api.base;
  });

  afterAll(async () => {
    await api?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await workers?.queue.obliterate({ force: true }).catch(() => undefined);
    await workers?.close();
    await queue?.close();
    producer?.disconnect();
    workerConn?.disconnect();
    await db?.destroy();
  });

  it('JSON upload → 202 pending → the worker ingests it → ready with chunks → retrievable', async () => {
    const text = 'Our warranty covers manufacturing defects for two years from delivery.\n\nBatteries are covered for one year. Accidental damage is not covered.';
    const res = await postJson({ title: 'Warranty', text, language: 'en' });
    expect(res.status).toBe(202);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { document } = await json(res);
    expect(document).toMatchObject({ title: 'Warranty', language: 'en', status: 'pending', error: null, chunks: 0 });
    expect(Object.keys(document).sort()).toEqual(['chunks', 'createdAt', 'error', 'id', 'language', 'status', 'title', 'updatedAt']);
    expect(res.headers.get('location')).toBe(`/api/agents/${agentId}/knowledge/${document.id}`);
    expect(await queue.getJob(knowledgeJobId({ documentId: document.id, version: 1 }))).toBeDefined();

    const ready = await settled(document.id);
    expect(ready).toMatchObject({ id: document.id, status: 'ready', error: null });
    expect(ready.chunks).toBeGreaterThan(0);
    expect(ready.chunks).toBe((await repo.chunks(document.id)).length);
    expect((await vectorTexts(document.id)).join(' ')).toContain('Batteries are covered for one year.');

    const passages = await retrieve({ embedder, vectors }, agentId, 'how long is the warranty on batteries', 3, { language: 'en' });
    expect(passages[0].documentId).toBe(document.id);
    expect(passages[0].text).toMatch(/Batteries are covered for one year/);

    const list = await json(await fetch(kb(), { headers: auth }));
    expect(list.documents.find((d: any) => d.id === document.id)).toMatchObject({ title: 'Warranty', status: 'ready', chunks: ready.chunks });
  });

  it('detects the language when none is given (franc), else keeps the one given', async () => {
    const es = await json(await postJson({ title: 'Horario', text: 'Nuestra tienda abre de lunes a viernes de nueve de la mañana a ocho de la tarde, y los sábados por la mañana.' }));
    expect(es.document.language).toBe('es');
    const de = await json(await postJson({ title: 'Öffnungszeiten', text: 'Unser Kundendienst ist von Montag bis Freitag von acht bis zwanzig Uhr für Sie erreichbar.' }));
    expect(de.document.language).toBe('de');
    const given = await json(await postJson({ title: 'Given language', text: 'Nuestra tienda abre de lunes a viernes por la mañana y por la tarde.', language: 'en' }));
    expect(given.document.language).toBe('en');
    const short = await json(await postJson({ title: 'Short', text: 'Ok.' })); // too short to guess → the agent's default
    expect(short.document.language).toBe('en');
    const ready = await settled(es.document.id);
    const [hit] = await retrieve({ embedder, vectors }, agentId, 'sábados por la mañana', 1, { language: 'es' });
    expect(hit.documentId).toBe(ready.id);
  });

  it('re-uploading a title replaces the document: same id, a new job, old chunks and vectors gone', async () => {
    const first = (await json(await postJson({ title: 'Gift cards', text: Array.from({ length: 20 }, (_, i) => `Old rule ${i} says gift cards expire after a year.`).join(' '), language: 'en' }))).document;
    const v1 = await settled(first.id);
    expect(v1.chunks).toBeGreaterThan(1);
    const res = await postJson({ title: 'Gift cards', text: 'Gift cards never expire and can be used online.', language: 'en' });
    expect(res.status).toBe(202);
    const second = (await json(res)).document;
    expect(second.id).toBe(first.id);
    expect(second.status).toBe('pending');
    expect(await queue.getJob(knowledgeJobId({ documentId: first.id, version: 2 }))).toBeDefined();
    const v2 = await settled(first.id);
    expect(v2).toMatchObject({ status: 'ready', chunks: 1 });
    expect(await vectorTexts(first.id)).toEqual(['Gift cards never expire and can be used online.']);
    expect((await repo.chunks(first.id)).map((c) => c.text)).toEqual(['Gift cards never expire and can be used online.']);
    const titles = (await json(await fetch(kb(), { headers: auth }))).documents.map((d: any) => d.title);
    expect(titles.filter((t: string) => t === 'Gift cards')).toHaveLength(1);
  });

  it.each([
    [
      'returns.html',
      'text/html',
      '<!doctype html><html><head><title>ignored</title><style>p { color: red }</style><script>var secret = 1;</script></head><body><h1>Returns &amp; exchanges</h1><p>You can <b>return</b> any item within <a href="https://example.com/returns">30 days</a>.</p><ul><li>Keep the receipt.</li></ul></body></html>',
      'returns',
      ['Returns & exchanges', 'You can return any item within 30 days.', 'Keep the receipt.'],
      ['<', 'color', 'secret', 'https://'],
    ],
    [
      'shipping-guide.md',
      'text/markdown',
      '# Shipping guide\n\nWe ship **worldwide** with [our couriers](https://example.com/couriers).\n\n- Standard delivery takes `3-5` business days.\n- Express delivery takes *one* day.\n\n> Tracking links arrive by email.\n',
      'shipping-guide',
      ['Shipping guide', 'We ship worldwide with our couriers.', 'Standard delivery takes 3-5 business days.', 'Express delivery takes one day.', 'Tracking links arrive by email.'],
      ['**', '](', '`', '# ', '> ', 'https://'],
    ],
    [
      'Loyalty program.pdf',
      'application/pdf',
      minimalPdf(['Members earn one point per dollar spent.', 'Points expire after twelve months (unless used).']),
      'Loyalty program',
      ['Members earn one point per dollar spent.', 'Points expire after twelve months (unless used).'],
      ['-- 1 of 1 --', 'Helvetica'],
    ],
    ['notes.txt', 'text/plain', '\uFEFFPlain notes: the helpdesk phone number is printed on the invoice.', 'notes', ['Plain notes: the helpdesk phone number is printed on the invoice.'], ['\uFEFF']],
  ])('multipart %s: the right text is extracted and ingested (title from the file name)', async (name, type, data, title, expected, absent) => {
    const res = await postFile(name, data, type, { language: 'en' });
    expect(res.status).toBe(202);
    const { document } = await json(res);
    expect(document).toMatchObject({ title, language: 'en', status: 'pending' });
    const ready = await settled(document.id);
    expect(ready.status).toBe('ready');
    const text = (await repo.chunks(document.id)).map((c) => c.text).join(' ');
    for (const e of expected) expect(text).toContain(e);
    for (const a of absent) expect(text).not.toContain(a);
  });

  it('multipart: an explicit title field wins, and the language is detected from the file', async () => {
    const res = await postFile('x.txt', 'Les remboursements sont effectués sous sept jours ouvrés après réception du colis retourné.', 'text/plain', { title: 'Remboursements' });
    expect(res.status).toBe(202);
    expect((await json(res)).document).toMatchObject({ title: 'Remboursements', language: 'fr' });
  });

  it('DELETE removes the document, its chunks and its vectors → 204; then 404', async () => {
    const { document } = await json(await postJson({ title: 'Temporary', text: 'This temporary policy about loaner devices will be removed.', language: 'en' }));
    await settled(document.id);
    expect((await vectorTexts(document.id)).length).toBeGreaterThan(0);
    const del = await fetch(kb(`/${document.id}`), { method: 'DELETE', headers: auth });
    expect(del.status).toBe(204);
    expect(await vectorTexts(document.id)).toEqual([]);
    expect(await repo.get(document.id)).toBeNull();
    expect(await repo.chunks(document.id)).toEqual([]);
    const passages = await retrieve({ embedder, vectors }, agentId, 'temporary policy loaner devices', 5);
    expect(passages.map((p) => p.documentId)).not.toContain(document.id);
    expect((await fetch(kb(`/${document.id}`), { headers: auth })).status).toBe(404);
    expect((await fetch(kb(`/${document.id}`), { method: 'DELETE', headers: auth })).status).toBe(404);
  });

  it('a document deleted before its job runs is not resurrected by the worker', async () => {
    await workers.knowledgeWorker!.pause();
    try {
      const { document } = await json(await postJson({ title: 'Ghost', text: 'A document deleted while its ingestion job waits.', language: 'en' }));
      expect((await fetch(kb(`/${document.id}`), { method: 'DELETE', headers: auth })).status).toBe(204);
      workers.knowledgeWorker!.resume();
      const job = await waitFor('the ghost job', async () => {
        const j = await queue.getJob(knowledgeJobId({ documentId: document.id, version: 1 }));
        return j && (await j.isCompleted()) && j;
      });
      expect((await queue.getJob(job.id!))!.returnvalue).toEqual({ status: 'deleted', documentId: document.id });
      expect(await vectorTexts(document.id)).toEqual([]);
      expect(await repo.get(document.id)).toBeNull();
    } finally {
      workers.knowledgeWorker!.resume();
    }
  });

  it('a permanent embedder error marks the document failed with the error, without retrying', async () => {
    const { document } = await json(await postJson({ title: 'Rejected', text: 'EMBEDDER-REJECTS this text.', language: 'en' }));
    const failed = await settled(document.id);
    expect(failed).toMatchObject({ status: 'failed', error: 'test.embedder: input rejected (HTTP 400)', chunks: 0 });
    // The processor marks the document before it throws; BullMQ records the attempt when it moves the job to failed.
    const id = knowledgeJobId({ documentId: document.id, version: 1 });
    await waitFor('the job to be failed', async () => (await queue.getJob(id))?.isFailed());
    expect((await queue.getJob(id))!.attemptsMade).toBe(1);
  });

  it('a retryable embedder outage is retried, then marks the document failed after the last attempt', async () => {
    const { document } = await json(await postJson({ title: 'Outage', text: 'EMBEDDER-OUTAGE during this upload.', language: 'en' }));
    const failed = await settled(document.id);
    expect(failed).toMatchObject({ status: 'failed', error: 'test.embedder: upstream unavailable (HTTP 503)' });
    const job = await queue.getJob(knowledgeJobId({ documentId: document.id, version: 1 }));
    expect(job!.attemptsMade).toBe(2); // the queue's attempts
  });

  describe('errors', () => {
    it('401 without a valid key, on every route', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      for (const [method, path] of [['GET', ''], ['POST', ''], ['GET', `/${id}`], ['DELETE', `/${id}`]]) {
        for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
          const res = await fetch(kb(path), { method, headers });
          expect(res.status).toBe(401);
          expect(JSON.stringify(await json(res))).not.toContain(API_KEY);
        }
      }
    });

    it('GET needs the viewer role, POST and DELETE supervisor (403 for a viewer key)', async () => {
      const actor = { kind: 'bootstrap' as const, id: 'test', label: 'test' };
      const viewer = { authorization: `Bearer ${(await api.accounts.createApiKey({ name: 'kb viewer', role: 'viewer' }, actor)).key}` };
      const supervisor = { authorization: `Bearer ${(await api.accounts.createApiKey({ name: 'kb supervisor', role: 'supervisor' }, actor)).key}` };
      const id = '00000000-0000-4000-8000-000000000000';
      expect((await fetch(kb(), { headers: viewer })).status).toBe(200);
      const post = await fetch(kb(), { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Nope', text: 'A viewer cannot upload.' }) });
      expect(post.status).toBe(403);
      expect((await json(post)).error).toMatch(/supervisor role/);
      expect((await fetch(kb(`/${id}`), { method: 'DELETE', headers: viewer })).status).toBe(403);
      expect((await fetch(kb(`/${id}`), { method: 'DELETE', headers: supervisor })).status).toBe(404);
    });

    it.each([
      ['no title', { text: 'Some text.' }, /title/],
      ['a blank title', { title: '  ', text: 'Some text.' }, /title/],
      ['blank text', { title: 'Blank', text: ' \n ' }, /text: must not be blank/],
      ['a bad language', { title: 'Lang', text: 'Some text.', language: 'english' }, /language: must be an ISO 639-1 code/],
      ['a non-string text', { title: 'Num', text: 42 }, /text/],
    ])('400 for a JSON upload with %s', async (_label, body, message) => {
      const res = await postJson(body);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatch(message);
    });

    it('400 for malformed JSON, a multipart upload without a file, a malformed docId', async () => {
      const bad = await fetch(kb(), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title": "x", ' });
      expect(bad.status).toBe(400);
      expect((await json(bad)).error).toBe('body is not valid JSON');
      const form = new FormData();
      form.append('title', 'No file');
      const noFile = await fetch(kb(), { method: 'POST', headers: auth, body: form });
      expect(noFile.status).toBe(400);
      expect((await json(noFile)).error).toMatch(/"file" field/);
      const wrongField = new FormData();
      wrongField.append('document', new Blob(['text']), 'a.txt');
      const wrong = await fetch(kb(), { method: 'POST', headers: auth, body: wrongField });
      expect(wrong.status).toBe(400);
      expect((await json(wrong)).error).toMatch(/"file" field/);
      expect((await fetch(kb('/not-a-uuid'), { headers: auth })).status).toBe(400);
    });

    it('400 for an unreadable file of a supported type', async () => {
      const fake = await postFile('broken.pdf', 'this is not a pdf', 'application/pdf');
      expect(fake.status).toBe(400);
      expect((await json(fake)).error).toMatch(/not a PDF/);
      const latin1 = await postFile('latin1.txt', Buffer.from('caf\xe9 cr\xe8me', 'latin1'), 'text/plain');
      expect(latin1.status).toBe(400);
      expect((await json(latin1)).error).toMatch(/UTF-8/);
      const empty = await postFile('empty.md', '   \n', 'text/markdown');
      expect(empty.status).toBe(400);
      expect((await json(empty)).error).toMatch(/no text/);
    });

    it('404 for an unknown agent or document', async () => {
      const otherAgent = `${base}/api/agents/${uniqueSid('nobody-')}/knowledge`;
      const post = await postJson({ title: 'x', text: 'y' }, otherAgent);
      expect(post.status).toBe(404);
      expect((await json(post)).error).toMatch(/agent .* not found/);
      expect((await fetch(otherAgent, { headers: auth })).status).toBe(404);
      const unknownDoc = await fetch(kb('/00000000-0000-4000-8000-000000000000'), { headers: auth });
      expect(unknownDoc.status).toBe(404);
      expect((await json(unknownDoc)).error).toMatch(/document .* not found/);
    });

    it('404 for another agent\'s document', async () => {
      const other = uniqueSid('kbother-');
      await new AgentsRepo(db).upsert({ id: other, name: 'Other', systemPrompt: 'x', firstMessage: 'x', defaultLanguage: 'en', languages: ['en'], voices: {}, intents: [], handoffNumber: null, isDefault: false });
      const { document } = await json(await postJson({ title: 'Mine', text: 'Belongs to the first agent.', language: 'en' }));
      expect((await fetch(`${base}/api/agents/${other}/knowledge/${document.id}`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${base}/api/agents/${other}/knowledge/${document.id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
      expect(await repo.get(document.id)).not.toBeNull();
    });

    it('413 for a file or a JSON body larger than the limit', async () => {
      const big = 'All work and no play makes a long document. '.repeat(Math.ceil((MAX_UPLOAD + 1) / 44));
      const file = await postFile('big.txt', big, 'text/plain');
      expect(file.status).toBe(413);
      expect((await json(file)).error).toMatch(/larger than the 32768 byte limit/);
      const body = await postJson({ title: 'Big', text: big });
      expect(body.status).toBe(413);
      expect((await json(body)).error).toMatch(/larger than the 32768 byte limit/);
      expect(await repo.findByTitle(agentId, 'Big')).toBeNull();
    });

    it('415 for another content type or an unsupported file type', async () => {
      const plain = await fetch(kb(), { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'just text' });
      expect(plain.status).toBe(415);
      expect((await json(plain)).error).toMatch(/application\/json/);
      const docx = await postFile('contract.docx', 'PK\u0003\u0004', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
      expect(docx.status).toBe(415);
      expect((await json(docx)).error).toMatch(/unsupported file type.*\.txt, \.md, \.html, \.pdf/);
    });

    it.each([
      ['hangs (Redis down: BullMQ waits for it)', () => new Promise<never>(() => undefined)],
      ['fails', () => Promise.reject(new Error('Connection is closed.'))],
    ])('503 when enqueueing the job %s; the document is then failed', async (_label, add) => {
      // A producer whose Redis is unreachable, reduced to what the router uses (a real dead ioredis connection keeps the process alive for 2 s after disconnect()).
      const deadQueue = { add } as unknown as KnowledgeQueue;
      const s = await startTestApi({ db, routers: [createKnowledgeRouter({ db, agents: new AgentsRepo(db), vectors, queue: deadQueue, enqueueTimeoutMs: 200 })] });
      const title = uniqueSid('Unqueued ');
      try {
        const res = await fetch(`${s.base}/api/agents/${agentId}/knowledge`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title, text: 'Nothing will ingest this.', language: 'en' }) });
        expect(res.status).toBe(503);
        expect((await json(res)).error).toMatch(/queue is unavailable/);
        expect(await repo.findByTitle(agentId, title)).toMatchObject({ status: 'failed', error: expect.stringMatching(/could not be queued/) });
      } finally {
        await s.close();
      }
    });
  });
});
