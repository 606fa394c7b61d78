import knexFactory, { type Knex } from 'knex';
import { setupTestDb } from '../../helpers/db';
import { PostgresVectorStore } from '../../../src/providers/vector/postgres';
import { ProviderError } from '../../../src/providers/errors';
import { vectorStoreConformance } from './vector-store.conformance';

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
});
