import knexFactory, { type Knex } from 'knex';
import { setupTestDb, testDatabaseUrl } from '../../helpers/db';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { ProviderError } from '../../../src/providers/errors';
import { ProviderTimeoutError, ResilientVectorStore } from '../../../src/providers/resilience';
import { vectorStoreConformance } from './vector-store.conformance';
import { waitFor } from '../../helpers/async';

vectorStoreConformance('postgres', async () => {
  const db = await setupTestDb();
  return { store: new PostgresVectorStore(db), close: () => db.destroy() };
});

describe('PostgresVectorStore specifics', () => {
  let db: Knex;
  let store: PostgresVectorStore;
  const ns = `pg-specific-${Date.now().toString(36)}`;
  beforeAll(async () => {
    db = await setupTestDb();
    store = new PostgresVectorStore(db);
  });
  afterAll(() => db.destroy());

  it('rejects bad input with non-retryable ProviderErrors', async () => {
    const v = Float32Array.from([1, 0, 0]);
    const bad = [
      store.upsert('', [{ id: 'a', values: v, metadata: {} }]),
      store.upsert(ns, [{ id: 'a', values: Float32Array.from([NaN, 0, 0]), metadata: {} }]),
      store.upsert(ns, [{ id: 'a', values: new Float32Array(0), metadata: {} }]),
      store.upsert(ns, [{ id: 'a', values: v, metadata: { nested: { x: 1 } as any } }]),
      store.upsert(ns, [{ id: 'a', values: v, metadata: {} }, { id: 'a', values: v, metadata: {} }]),
      store.query(ns, v, 0),
      store.deleteByFilter(ns, {}),
    ];
    for (const p of bad) await expect(p).rejects.toMatchObject({ name: 'ProviderError', retryable: false });
  });

  it('only scores items of the query’s dimensionality and stores float4 arrays', async () => {
    await store.upsert(ns, [
      { id: 'three', values: Float32Array.from([0.6, 0.8, 0]), metadata: {} },
      { id: 'four', values: Float32Array.from([1, 0, 0, 0]), metadata: {} },
    ]);
    const got = await store.query(ns, Float32Array.from([0.6, 0.8, 0]), 10);
    expect(got.map((m) => m.id)).toEqual(['three']);
    const row = await db('vector_items').where({ namespace: ns, id: 'three' }).first();
    expect(row.embedding).toHaveLength(3);
    [0.6, 0.8, 0].forEach((x, i) => expect(Number(row.embedding[i])).toBeCloseTo(x, 6));
  });

  it('upserts in batches larger than one statement', async () => {
    const big = `${ns}-big`;
    const items = Array.from({ length: 1_234 }, (_, i) => ({ id: `b${i}`, values: Float32Array.from([Math.cos(i), Math.sin(i)]), metadata: { i } }));
    await store.upsert(big, items);
    const { count } = (await db('vector_items').where({ namespace: big }).count<{ count: string }[]>('* as count'))[0];
    expect(Number(count)).toBe(1_234);
    const [best] = await store.query(big, Float32Array.from([Math.cos(100), Math.sin(100)]), 1);
    expect(best.score).toBeCloseTo(1, 5);
    expect(Math.cos(best.metadata.i as number - 100)).toBeCloseTo(1, 5); // same angle (mod 2π)
  });

  it('wraps database errors as retryable ProviderErrors', async () => {
    const unreachable = knexFactory({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:1/nowhere', pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000 });
    try {
      const err = await new PostgresVectorStore(unreachable).query('x', Float32Array.from([1]), 1).catch((e) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.retryable).toBe(true);
    } finally {
      await unreachable.destroy();
    }
  });

  describe('cancellation', () => {
    const cns = `${ns}-cancel`;
    const v = Float32Array.from([1, 0, 0]);
    /** Our vector-store queries the server is running (pid, state, wait event), seen from another session. */
    const running = async () =>
      (
        await db.raw(
          `SELECT pid, state, wait_event_type FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%unnest(embedding%'`,
        )
      ).rows as Array<{ pid: number; state: string; wait_event_type: string | null }>;

    beforeAll(() => store.upsert(cns, [{ id: 'a', values: v, metadata: { k: 'x' } }]));

    it('rejects at once with the abort reason and cancels the running query (PostgreSQL cancel request)', async () => {
      // Another session holds an exclusive lock: the query really runs on the server and waits there.
      const locker = await db.transaction();
      try {
        await locker.raw('LOCK TABLE vector_items IN ACCESS EXCLUSIVE MODE');
        const ac = new AbortController();
        const p = store.query(cns, v, 1, undefined, { signal: ac.signal });
        const [blocked] = await waitFor('the query to wait on the lock', async () => {
          const rows = await running();
          return rows.some((r) => r.wait_event_type === 'Lock') ? rows : null;
        });
        const reason = new Error('caller hung up');
        const t0 = performance.now();
        ac.abort(reason);
        // While the lock is still held, so the rejection did not wait for the query (bounded so old code fails, not hangs).
        await expect(Promise.race([p, new Promise((r) => setTimeout(r, 2000, 'still waiting'))])).rejects.toBe(reason);
        const rejectedMs = performance.now() - t0;
        await waitFor('the query to leave pg_stat_activity', async () => !(await running()).some((r) => r.pid === blocked.pid));
        const goneMs = performance.now() - t0;
        // eslint-disable-next-line no-console
        console.log(`postgres cancel: rejected after ${rejectedMs.toFixed(1)} ms, query gone after ${goneMs.toFixed(1)} ms`);
        expect(rejectedMs).toBeLessThan(100);
      } finally {
        await locker.rollback();
      }
      // The pool is healthy afterwards: the connection was handed back (or replaced) and works.
      await expect(store.query(cns, v, 1)).resolves.toMatchObject([{ id: 'a' }]);
      await expect(store.query(cns, v, 1, { k: 'x' }, { signal: new AbortController().signal })).resolves.toMatchObject([{ id: 'a' }]);
    });

    it('behind ResilientVectorStore, a timed-out query is cancelled on the server, not abandoned', async () => {
      const resilient = new ResilientVectorStore(store, { timeoutMs: 200, retry: { maxRetries: 0 } });
      const locker = await db.transaction();
      try {
        await locker.raw('LOCK TABLE vector_items IN ACCESS EXCLUSIVE MODE');
        await expect(resilient.query(cns, v, 1)).rejects.toBeInstanceOf(ProviderTimeoutError);
        await waitFor('the timed-out query to leave pg_stat_activity', async () => (await running()).length === 0, 3000);
      } finally {
        await locker.rollback();
      }
    });

    it('rejects an already aborted call without touching the database', async () => {
      const ac = new AbortController();
      ac.abort(new Error('gone'));
      await expect(store.query(cns, v, 1, undefined, { signal: ac.signal })).rejects.toThrow('gone');
      await expect(store.upsert(cns, [{ id: 'b', values: v, metadata: {} }], { signal: ac.signal })).rejects.toThrow('gone');
      expect(await db('vector_items').where({ namespace: cns, id: 'b' }).first()).toBeUndefined();
    });

    it('cancels a query held up waiting for a pool connection', async () => {
      const small = knexFactory({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 } });
      const locker = await small.transaction(); // takes the only connection
      try {
        const ac = new AbortController();
        const p = new PostgresVectorStore(small).query(cns, v, 1, undefined, { signal: ac.signal });
        await new Promise((r) => setImmediate(r));
        const reason = new Error('barge-in');
        ac.abort(reason);
        await expect(p).rejects.toBe(reason);
      } finally {
        await locker.rollback();
      }
      await expect(new PostgresVectorStore(small).query(cns, v, 1)).resolves.toHaveLength(1); // the late connection was released
      await small.destroy();
    });
  });
});
