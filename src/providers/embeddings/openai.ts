import type OpenAI from 'openai';
import { z } from 'zod';
import { createOpenAiClient, type OpenAiClientOptions } from '../openai/client';
import { malformedResponse, mapOpenAiError } from '../openai/errors';
import type { CallOptions, Embedder } from '../types';

/** Options of {@link OpenAiEmbedder}: the client options plus the model and its output size. */
export interface OpenAiEmbedderOptions extends OpenAiClientOptions {
  /** Embedding model. Default `text-embedding-3-small`. */
  model?: string;
  /**
   * Output dimensions, sent as the API's `dimensions` parameter (text-embedding-3 models can shorten vectors).
   * Default: the model's native size (1536 for text-embedding-3-small and ada-002, 3072 for -3-large), not sent.
   */
  dimensions?: number;
  /** Inputs per request, 1..2048 (the API's limit). Default 2048. */
  batchSize?: number;
}

/** Native output sizes of OpenAI's embedding models (https://platform.openai.com/docs/guides/embeddings). */
export const OPENAI_EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = Object.freeze({
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
});

/** The API accepts at most 2048 inputs per request. */
export const OPENAI_EMBEDDINGS_MAX_BATCH = 2048;

const ID = 'openai.embeddings';

const responseBody = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

/**
 * Text embeddings from OpenAI (`POST /v1/embeddings` with `encoding_format: 'float'`) through the official SDK.
 * Inputs go in sequential batches of at most `batchSize` (≤ 2048); results are put back in input order by the
 * API's `index` and L2-normalised (dot product = cosine similarity), as Float32Array of `dimensions` floats.
 * Empty or whitespace-only texts are not sent (the API rejects them) and get the zero vector, like the local embedder.
 * @throws ProviderError — see ../openai/errors.ts; not retryable when the response has the wrong count, indexes or
 *   vector length.
 */
export class OpenAiEmbedder implements Embedder {
  readonly id = ID;
  readonly model: string;
  readonly dimensions: number;
  private readonly sendDimensions: boolean;
  private readonly batchSize: number;
  private readonly client: OpenAI;
  private readonly apiKey: string;

  /** @throws Error when the model's size is unknown and `dimensions` is not given, or an option is out of range. */
  constructor(o: OpenAiEmbedderOptions) {
    this.client = createOpenAiClient(o);
    this.apiKey = o.apiKey;
    this.model = o.model ?? 'text-embedding-3-small';
    const dims = o.dimensions ?? OPENAI_EMBEDDING_DIMENSIONS[this.model];
    if (!Number.isInteger(dims) || dims <= 0) throw new Error(`OpenAiEmbedder: unknown size of model ${this.model}; pass dimensions`);
    this.dimensions = dims;
    this.sendDimensions = o.dimensions !== undefined;
    this.batchSize = o.batchSize ?? OPENAI_EMBEDDINGS_MAX_BATCH;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > OPENAI_EMBEDDINGS_MAX_BATCH) {
      throw new Error(`OpenAiEmbedder: batchSize must be 1..${OPENAI_EMBEDDINGS_MAX_BATCH}, got ${this.batchSize}`);
    }
  }

  /**
   * Embeds `texts` (see class doc). `o.signal` aborts the HTTP request in flight (the SDK's `signal` request
   * option) and rejects at once with `signal.reason`; later batches are not sent.
   */
  async embed(texts: string[], o: CallOptions = {}): Promise<Float32Array[]> {
    o.signal?.throwIfAborted();
    const out: Float32Array[] = texts.map(() => new Float32Array(this.dimensions));
    const todo = texts.map((t, i) => ({ t, i })).filter(({ t }) => t.trim() !== '');
    for (let start = 0; start < todo.length; start += this.batchSize) {
      const batch = todo.slice(start, start + this.batchSize);
      const vectors = await this.request(batch.map((b) => b.t), o.signal);
      batch.forEach((b, k) => (out[b.i] = vectors[k]));
    }
    return out;
  }

  /** One API call; returns normalised vectors in the order of `input`. */
  private async request(input: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    let body: unknown;
    try {
      body = await this.client.embeddings.create(
        {
          model: this.model,
          input,
          encoding_format: 'float',
          ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
        },
        signal ? { signal } : undefined,
      );
    } catch (e) {
      throw mapOpenAiError(ID, e, { signal, secrets: [this.apiKey] });
    }
    const r = responseBody.safeParse(body);
    if (!r.success) throw malformedResponse(ID, 'embeddings response without data[].index/embedding');
    const vectors: Array<Float32Array | undefined> = new Array(input.length);
    for (const d of r.data.data) {
      if (d.index >= input.length || vectors[d.index]) throw malformedResponse(ID, `unexpected or repeated index ${d.index}`);
      if (d.embedding.length !== this.dimensions) throw malformedResponse(ID, `vector of ${d.embedding.length} dimensions, expected ${this.dimensions}`);
      vectors[d.index] = normalise(d.embedding);
    }
    if (r.data.data.length !== input.length) throw malformedResponse(ID, `${r.data.data.length} vectors for ${input.length} inputs`);
    return vectors as Float32Array[];
  }
}

/** L2-normalised copy as Float32Array; a zero vector stays zero. */
function normalise(v: number[]): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}
