import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * Post-call queue: names, payload schemas, job ids and enqueue helpers, shared by src/ (producers) and workers/.
 *
 * Design: ONE BullMQ queue `post-call` whose job *names* are the kinds (`finalize-transcript` → `analysis` →
 * `csat` → `crm-sync`). One queue means one Worker, one connection pair and one `obliterate` in tests; retry policy is
 * per job (the CRM step gets `crm.maxAttempts` + exponential backoff, the others a small fixed policy). If the CRM
 * ever needs a rate limit, move `crm-sync` to its own queue: BullMQ's `limiter` is per queue, not per job name.
 *
 * Job ids are `<callSid>-<kind>`, not `<callSid>:<kind>`: BullMQ 6.7 `Job.validateOptions`
 * (node_modules/bullmq/dist/cjs/classes/job.js) throws "Custom Id cannot contain :" for any custom jobId containing
 * ':' unless it splits into exactly 3 parts (a legacy repeatable-job format), because ':' separates Redis key parts.
 * A repeated `queue.add` with an existing jobId is ignored by BullMQ, which makes enqueueing idempotent for as long
 * as the job is kept in Redis (completed jobs are kept {@link KEEP_COMPLETED_S}; processors are idempotent too).
 */

/** The queue's name (Redis keys are `<prefix>:post-call:*`). */
export const POST_CALL_QUEUE = 'post-call';

/** Default Redis key prefix; tests pass a unique one per file so parallel runs never collide. */
export const DEFAULT_QUEUE_PREFIX = 'callcenter';

/**
 * Job kinds in pipeline order. `connector-sync` fans out after `crm-sync` (which writes `call.completed`): one job
 * per enabled native CRM connector, payload `{ callSid, connectorId }`, jobId `<callSid>-connector-<connectorId>`.
 */
export const POST_CALL_KINDS = ['finalize-transcript', 'analysis', 'csat', 'crm-sync', 'connector-sync'] as const;
export type PostCallKind = (typeof POST_CALL_KINDS)[number];

/** Completed jobs are kept this long (s) so a repeated enqueue of the same jobId is still ignored. */
export const KEEP_COMPLETED_S = 7 * 24 * 3600;
/** Failed jobs are kept this long (s) for inspection. */
export const KEEP_FAILED_S = 30 * 24 * 3600;

/**
 * A Twilio CallSid (`CA` + 32 hex in production; tests use other unique ids). Letters, digits, `_` only, so a job id
 * built from it never contains ':' and is never an integer (BullMQ rejects both).
 */
export const callSidSchema = z.string().regex(/^[A-Za-z0-9_]{2,64}$/, 'callSid must be 2-64 letters, digits or _');

/** Every post-call job carries only the callSid; the processors read the rest from Postgres. */
export const postCallPayloadSchema = z.object({ callSid: callSidSchema }).strict();
export type PostCallPayload = z.infer<typeof postCallPayloadSchema>;

/** The `connector-sync` payload: the call and the native CRM connector (crm_connectors.id) to log it to. */
export const connectorSyncPayloadSchema = z.object({ callSid: callSidSchema, connectorId: z.uuid() }).strict();
export type ConnectorSyncPayload = z.infer<typeof connectorSyncPayloadSchema>;

/** Payload schema per job kind (separate entries so a kind can grow its own fields). */
export const PAYLOAD_SCHEMAS: Record<PostCallKind, z.ZodType<PostCallPayload>> = {
  'finalize-transcript': postCallPayloadSchema,
  analysis: postCallPayloadSchema,
  csat: postCallPayloadSchema,
  'crm-sync': postCallPayloadSchema,
  'connector-sync': connectorSyncPayloadSchema,
};

export type PostCallQueue = Queue<PostCallPayload, unknown, PostCallKind>;

/** Deterministic job id `<callSid>-<kind>` (see the module comment for why not ':'). @throws ZodError on a bad callSid. */
export function postCallJobId(callSid: string, kind: PostCallKind): string {
  return `${callSidSchema.parse(callSid)}-${kind}`;
}

/**
 * Creates an ioredis connection for BullMQ from a `redis://` URL.
 * - `worker`: `maxRetriesPerRequest: null` (BullMQ requires it for blocking worker connections; commands wait for
 *   Redis to come back instead of failing).
 * - `producer`: fails fast (`maxRetriesPerRequest: 1`, no offline queue) so an enqueue during a Redis blip throws at
 *   once; the caller logs it and the sweeper re-enqueues later.
 */
export function createRedisConnection(redisUrl: string, role: 'worker' | 'producer'): Redis {
  return role === 'worker'
    ? new Redis(redisUrl, { maxRetriesPerRequest: null })
    : new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
}

/** Opens the `post-call` queue (producer side). `prefix` defaults to {@link DEFAULT_QUEUE_PREFIX}. Close it with `queue.close()`. */
export function createPostCallQueue(connection: ConnectionOptions, o: { prefix?: string } = {}): PostCallQueue {
  return new Queue<PostCallPayload, unknown, PostCallKind>(POST_CALL_QUEUE, {
    connection,
    prefix: o.prefix ?? DEFAULT_QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    },
  });
}

/**
 * Adds one post-call job with its deterministic jobId; a job with the same id already in Redis makes this a no-op.
 * `opts` may override retry policy (`attempts`, `backoff`) but never `jobId`.
 * @returns the jobId.
 * @throws ZodError on an invalid payload; Redis errors from `queue.add`.
 */
export async function enqueuePostCallJob(
  queue: PostCallQueue,
  kind: PostCallKind,
  payload: PostCallPayload,
  opts: Omit<JobsOptions, 'jobId'> = {},
): Promise<string> {
  const data = PAYLOAD_SCHEMAS[kind].parse(payload);
  const jobId = postCallJobId(data.callSid, kind);
  await queue.add(kind, data, { ...opts, jobId });
  return jobId;
}

/** The connector-sync job id `<callSid>-connector-<connectorId>` (no ':'; see the module comment). */
export function connectorSyncJobId(callSid: string, connectorId: string): string {
  const p = connectorSyncPayloadSchema.parse({ callSid, connectorId });
  return `${p.callSid}-connector-${p.connectorId}`;
}

/**
 * Adds the `connector-sync` job of one call and connector (a job with the same id already in Redis makes this a
 * no-op). `opts` sets the retry policy (see workers/processors/connector-sync.ts `connectorBackoff`).
 * @returns the jobId. @throws ZodError on a bad callSid / connectorId; Redis errors from `queue.add`.
 */
export async function enqueueConnectorSync(queue: PostCallQueue, callSid: string, connectorId: string, opts: Omit<JobsOptions, 'jobId'> = {}): Promise<string> {
  const jobId = connectorSyncJobId(callSid, connectorId);
  await queue.add('connector-sync', { callSid, connectorId } as ConnectorSyncPayload, { ...opts, jobId });
  return jobId;
}
