import { z } from 'zod';
import 'zod-openapi';
import { agentSchema } from '../../db/agents';
import { SUPPORTED_EXTENSIONS } from '../../knowledge/extract';
import { jsonUploadSchema, KNOWLEDGE_PATH } from '../routes/knowledge';
import { docOnlyRoute, errorSchema, type ApiRoute } from './route';

/**
 * The OpenAPI description of an agent's knowledge base routes. They are served by their own express Router
 * (src/http/routes/knowledge.ts: multipart uploads, 202 + background ingestion), so these entries are
 * documentation only (`docOnlyRoute`: not mounted by the route table). Keep them in step with that router.
 */

const DOC_EXAMPLE = {
  id: '6f1c2f7e-8d1a-4b7e-9a51-0c2d3e4f5a6b',
  title: 'Returns policy',
  language: 'en',
  status: 'ready',
  error: null,
  chunks: 12,
  createdAt: '2026-12-02T10:00:00.000Z',
  updatedAt: '2026-12-02T10:00:05.000Z',
};

/** A knowledge document as the API shows it (never its text). */
export const knowledgeDocumentSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    language: z.string().meta({ description: 'ISO 639-1.' }),
    status: z.enum(['pending', 'ready', 'failed']).meta({ description: '`pending` until the ingestion job has chunked, embedded and indexed it.' }),
    error: z.string().nullable().meta({ description: 'Why ingestion failed, when `failed`.' }),
    chunks: z.number().int().meta({ description: 'Chunks stored (0 until `ready`).' }),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'KnowledgeDocument', example: DOC_EXAMPLE });

const multipartUpload = z.object({
  file: z.string().meta({ format: 'binary', description: `The document: ${SUPPORTED_EXTENSIONS.join(', ')}.` }),
  title: z.string().optional().meta({ description: 'Default: the file name without its extension.' }),
  language: z.string().optional().meta({ description: 'ISO 639-1; default: detected from the text.' }),
});

const agentParams = z.object({ agentId: agentSchema.shape.id });
const docParams = agentParams.extend({ docId: z.uuid() });
const one = z.object({ document: knowledgeDocumentSchema });
const error = (description: string) => ({ description, schema: errorSchema });

/** The four knowledge routes, documentation only (reads `viewer`, writes `supervisor`). */
export function knowledgeDocRoutes(): ApiRoute<any, any, any>[] {
  return [
    docOnlyRoute({
      method: 'post',
      path: KNOWLEDGE_PATH,
      role: 'supervisor',
      tag: 'knowledge',
      summary: "Add a document to an agent's knowledge base",
      description:
        'JSON `{ title, text, language? }` or multipart/form-data with a `file`. Stored `pending` (re-uploading a title replaces that document) and queued for ingestion; poll the document until `ready` or `failed`.',
      params: agentParams,
      body: jsonUploadSchema,
      otherBodies: { 'multipart/form-data': { schema: multipartUpload, description: 'A file upload.' } },
      responses: {
        202: { description: 'Queued for ingestion (`Location` names the document).', schema: one },
        400: error('Invalid fields, unreadable file or malformed body.'),
        404: error('No such agent.'),
        413: error('Larger than the upload limit.'),
        415: error('Another content type or file type.'),
        503: error('The ingestion queue is unavailable; try again.'),
      },
      examples: { body: { title: 'Returns policy', text: 'Items can be returned within 30 days of delivery.', language: 'en' }, response: { document: { ...DOC_EXAMPLE, status: 'pending', chunks: 0 } } },
    }),
    docOnlyRoute({
      method: 'get',
      path: KNOWLEDGE_PATH,
      role: 'viewer',
      tag: 'knowledge',
      summary: "List an agent's knowledge documents",
      params: agentParams,
      responses: { 200: { description: 'By title.', schema: z.object({ documents: z.array(knowledgeDocumentSchema) }) }, 400: error('Invalid agent id.'), 404: error('No such agent.') },
      examples: { response: { documents: [DOC_EXAMPLE] } },
    }),
    docOnlyRoute({
      method: 'get',
      path: `${KNOWLEDGE_PATH}/:docId`,
      role: 'viewer',
      tag: 'knowledge',
      summary: 'Get a knowledge document',
      params: docParams,
      responses: { 200: { description: 'The document.', schema: one }, 400: error('Invalid id.'), 404: error('No such agent or document.') },
      examples: { response: { document: DOC_EXAMPLE } },
    }),
    docOnlyRoute({
      method: 'delete',
      path: `${KNOWLEDGE_PATH}/:docId`,
      role: 'supervisor',
      tag: 'knowledge',
      summary: 'Delete a knowledge document',
      description: 'Removes its vectors, then the document and its chunks.',
      params: docParams,
      responses: { 204: { description: 'Deleted.' }, 400: error('Invalid id.'), 404: error('No such agent or document.'), 503: error('The vector store is unavailable; nothing was deleted, try again.') },
    }),
  ];
}
