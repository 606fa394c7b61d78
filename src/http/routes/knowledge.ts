import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import multer from 'multer';
import { z } from 'zod';
import type { Agent, AgentsRepo } from '../../db/agents';
import { KnowledgeRepo, type KnowledgeDocumentWithCount } from '../../db/knowledge';
import { enqueueKnowledgeIngest, type KnowledgeQueue } from '../../jobs/knowledge-queue';
import { detectDocumentLanguage } from '../../knowledge/detect-language';
import { extractText, formatOf, SUPPORTED_EXTENSIONS, titleFromFileName, UnreadableDocumentError } from '../../knowledge/extract';
import { agentNamespace, createPendingDocument } from '../../knowledge/ingest';
import { ProviderError } from '../../providers/errors';
import type { VectorStore } from '../../providers/types';
import { requireRole } from '../auth/require-role';
import { zodIssues } from '../zod-issues';

/** Base path of an agent's knowledge base. */
export const KNOWLEDGE_PATH = '/api/agents/:agentId/knowledge';

/** Default upload limit (bytes) for a file or a JSON body. */
export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** A document as the API shows it (never its source text). */
export interface KnowledgeDocumentView {
  id: string;
  title: string;
  /** ISO 639-1. */
  language: string;
  status: 'pending' | 'ready' | 'failed';
  error: string | null;
  /** Chunks stored (0 until the document is `ready`). */
  chunks: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The API view of a document. */
export function documentView(d: KnowledgeDocumentWithCount): KnowledgeDocumentView {
  return { id: d.id, title: d.title, language: d.language, status: d.status, error: d.error, chunks: d.chunks, createdAt: d.createdAt, updatedAt: d.updatedAt };
}

const lang = z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code like "en"');
const title = z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters');

/** Body of a JSON upload. */
export const jsonUploadSchema = z.object({
  title,
  text: z.string().refine((t) => t.trim().length > 0, 'must not be blank'),
  language: lang.optional(),
});

/** Text fields of a multipart upload (beside `file`). */
const multipartFieldsSchema = z.object({ title: title.optional(), language: lang.optional() });

const agentIdParam = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'agentId must be 1-64 letters, digits, _ . -');
const docIdParam = z.uuid('docId must be a UUID');

/** An error with the HTTP status and message to answer with. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}


export interface KnowledgeRouterDeps {
  db: Knex;
  agents: Pick<AgentsRepo, 'get'>;
  /** The vector store ingestion writes to (DELETE removes the document's vectors from it). */
  vectors: VectorStore;
  /** Producer handle on the `knowledge` queue (src/jobs/knowledge-queue.ts). */
  queue: KnowledgeQueue;
  /** Largest file / JSON body accepted (bytes). Default {@link DEFAULT_MAX_UPLOAD_BYTES}. */
  maxUploadBytes?: number;
  /** Bound on enqueueing the ingestion job (ms); default KNOWLEDGE_ENQUEUE_TIMEOUT_MS. */
  enqueueTimeoutMs?: number;
}

/**
 * An agent's knowledge base over REST (express 5 Router). Mount it inside the API router (`createApiRouter`'s
 * `routers`), which authenticates and rate-limits; here GET needs the viewer role, POST and DELETE supervisor
 * (401 / 403 otherwise, {@link requireRole}):
 *
 * - `POST /api/agents/:agentId/knowledge` — either `application/json` `{ title, text, language? }` or
 *   `multipart/form-data` with `file` (.txt, .md, .html or .pdf; text extracted by src/knowledge/extract.ts) and
 *   optional `title` (default: the file name without extension) and `language`. `language` (ISO 639-1) defaults to
 *   franc's guess from the text (preferring the agent's languages), else the agent's default language. The
 *   document is stored `pending` with its text (re-uploading a title replaces that document: same id) and an
 *   ingestion job is queued (queue `knowledge`; the worker chunks, embeds and indexes it, then sets `ready` or
 *   `failed` + `error`). → 202 `{ document: KnowledgeDocumentView }` with a `Location` header.
 *   400 invalid fields / unreadable file / malformed body; 404 unknown agent; 413 larger than `maxUploadBytes`;
 *   415 another content type or file type; 503 when the job could not be queued (the document is then `failed`).
 * - `GET /api/agents/:agentId/knowledge` → `{ documents: KnowledgeDocumentView[] }` ordered by title.
 * - `GET /api/agents/:agentId/knowledge/:docId` → `{ document: KnowledgeDocumentView }`; 404 when unknown.
 * - `DELETE /api/agents/:agentId/knowledge/:docId` → removes its vectors (vector store `deleteByFilter` on
 *   `{ documentId }` in the agent's namespace), then the document and its chunks → 204; 404 when unknown; 503 when
 *   the vector store is unavailable (nothing deleted, retry).
 * Errors are JSON `{ error }` with a message meant for the API user (never the document text).
 */
export function createKnowledgeRouter(d: KnowledgeRouterDeps): Router {
  const r = Router();
  const repo = new KnowledgeRepo(d.db);
  const maxBytes = d.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const json = express.json({ limit: maxBytes, type: 'application/json' });
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 4_096, parts: 10 },
    defParamCharset: 'utf8', // UTF-8 file names (multer's default is latin1)
  }).single('file');

  const reader = requireRole('viewer');
  const writer = requireRole('supervisor');

  const agentOf = async (req: Request): Promise<Agent> => {
    const id = agentIdParam.safeParse(req.params.agentId);
    if (!id.success) throw new HttpError(400, id.error.issues[0].message);
    const agent = await d.agents.get(id.data);
    if (!agent) throw new HttpError(404, `agent ${id.data} not found`);
    return agent;
  };
  const documentOf = async (req: Request): Promise<{ agent: Agent; doc: KnowledgeDocumentWithCount }> => {
    const agent = await agentOf(req);
    const docId = docIdParam.safeParse(req.params.docId);
    if (!docId.success) throw new HttpError(400, docId.error.issues[0].message);
    const doc = await repo.getWithChunkCount(agent.id, docId.data);
    if (!doc) throw new HttpError(404, `document ${docId.data} not found for agent ${agent.id}`);
    return { agent, doc };
  };

  /** Parses the body by content type (after the agent check, so an unknown agent never costs an upload). */
  const parseBody: RequestHandler = async (req, res, next) => {
    res.locals.agent = await agentOf(req);
    if (req.is('application/json')) return json(req, res, next);
    if (req.is('multipart/form-data')) return upload(req, res, (err?: unknown) => next(err ? uploadError(err, maxBytes) : undefined));
    next(new HttpError(415, 'send application/json { title, text, language? } or multipart/form-data with a "file" field'));
  };

  r.post(KNOWLEDGE_PATH, writer, parseBody, async (req, res) => {
    const agent: Agent = res.locals.agent;
    const { title, text, language } = req.is('multipart/form-data') ? await fromMultipart(req) : fromJson(req.body);
    const doc = await createPendingDocument(d.db, {
      agentId: agent.id,
      title,
      text,
      language: language ?? detectDocumentLanguage(text, { prefer: agent.languages }) ?? agent.defaultLanguage,
    });
    try {
      await enqueueKnowledgeIngest(d.queue, { documentId: doc.id, version: doc.version }, { timeoutMs: d.enqueueTimeoutMs });
    } catch (err) {
      req.log?.warn({ documentId: doc.id, err: (err as Error)?.message }, 'could not queue knowledge ingestion');
      await repo.setStatus(doc.id, 'failed', 'the ingestion job could not be queued; upload the document again', { version: doc.version });
      throw new HttpError(503, 'the ingestion queue is unavailable; the document was not ingested, try again later');
    }
    req.log?.info({ agentId: agent.id, documentId: doc.id, version: doc.version, chars: text.length, language: doc.language }, 'knowledge document queued');
    res
      .status(202)
      .location(`/api/agents/${encodeURIComponent(agent.id)}/knowledge/${doc.id}`)
      .json({ document: documentView({ ...doc, chunks: 0 }) });
  });

  r.get(KNOWLEDGE_PATH, reader, async (req, res) => {
    const agent = await agentOf(req);
    res.json({ documents: (await repo.listWithChunkCounts(agent.id)).map(documentView) });
  });

  r.get(`${KNOWLEDGE_PATH}/:docId`, reader, async (req, res) => {
    const { doc } = await documentOf(req);
    res.json({ document: documentView(doc) });
  });

  r.delete(`${KNOWLEDGE_PATH}/:docId`, writer, async (req, res) => {
    const { agent, doc } = await documentOf(req);
    try {
      await d.vectors.deleteByFilter(agentNamespace(agent.id), { documentId: doc.id });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      req.log?.warn({ documentId: doc.id, err: err.message }, 'vector store delete failed');
      throw new HttpError(503, 'the vector store is unavailable; the document was not deleted, try again later');
    }
    await repo.deleteDocument(doc.id);
    req.log?.info({ agentId: agent.id, documentId: doc.id }, 'knowledge document deleted');
    res.status(204).end();
  });

  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    const known = err instanceof HttpError ? err : bodyParserError(err);
    if (!known) return next(err);
    res.status(known.status).json({ error: known.message });
  };
  r.use(KNOWLEDGE_PATH, onError);
  return r;
}

/** Title, text and language of a JSON upload. @throws HttpError 400. */
function fromJson(body: unknown): z.infer<typeof jsonUploadSchema> {
  const b = jsonUploadSchema.safeParse(body);
  if (!b.success) throw new HttpError(400, zodIssues(b.error));
  return b.data;
}

/** Title, text and language of a multipart upload (`req.file` from multer). @throws HttpError 400 / 415. */
async function fromMultipart(req: Request): Promise<{ title: string; text: string; language?: string }> {
  const file = req.file;
  if (!file) throw new HttpError(400, 'multipart upload needs the document in a "file" field');
  const fields = multipartFieldsSchema.safeParse(req.body ?? {});
  if (!fields.success) throw new HttpError(400, zodIssues(fields.error));
  const format = formatOf(file.originalname, file.mimetype);
  if (!format) throw new HttpError(415, `unsupported file type "${file.originalname.slice(-40)}": upload ${SUPPORTED_EXTENSIONS.join(', ')}`);
  let text: string;
  try {
    text = await extractText(file.buffer, format);
  } catch (err) {
    if (err instanceof UnreadableDocumentError) throw new HttpError(400, err.message);
    throw err;
  }
  const t = fields.data.title ?? title.safeParse(titleFromFileName(file.originalname)).data;
  if (!t) throw new HttpError(400, 'title: the file name gives no usable title; send a "title" field');
  return { title: t, text, language: fields.data.language };
}

/** multer errors → 413 (too large) or 400. */
function uploadError(err: unknown, maxBytes: number): HttpError {
  const code = (err as { code?: string })?.code;
  if (err instanceof multer.MulterError) {
    if (code === 'LIMIT_FILE_SIZE') return new HttpError(413, `file is larger than the ${maxBytes} byte limit`);
    if (code === 'LIMIT_UNEXPECTED_FILE' || code === 'LIMIT_FILE_COUNT') return new HttpError(400, 'upload exactly one file, in the "file" field');
    return new HttpError(400, `invalid multipart upload: ${err.message}`);
  }
  return new HttpError(400, `malformed multipart body: ${(err as Error)?.message ?? 'unreadable'}`.slice(0, 200));
}

/** express.json (body-parser) errors → HttpError, or null for anything else. */
function bodyParserError(err: unknown): HttpError | null {
  const e = err as { type?: string; status?: number; limit?: number };
  switch (e?.type) {
    case 'entity.too.large':
      return new HttpError(413, `JSON body is larger than the ${e.limit} byte limit`);
    case 'entity.parse.failed':
      return new HttpError(400, 'body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported body charset or content encoding');
    default:
      return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.type ? new HttpError(e.status, 'invalid request body') : null;
  }
}
