import type { Knex } from 'knex';
import type { AppContext } from '../../src/context';
import type { RunningServer } from '../../src/server';

/**
 * Tears down an in-process server started by a test (buildAppContext + startServer): stops the server (live calls
 * end, rows written), drops the test's BullMQ queue, closes the context (queues, Redis, VAD worker, pool) and the
 * test's own knex. Every part may be missing (a failed beforeAll).
 */
export async function closeInProcessServer(p: { server?: RunningServer | null; ctx?: AppContext | null; db?: Knex | null }): Promise<void> {
  await p.server?.close();
  await p.ctx?.queue.obliterate({ force: true }).catch(() => undefined);
  await p.ctx?.close();
  await p.db?.destroy();
}
