import type { Filter, VectorStore } from '../../../src/providers/types';
import { mulberry32 as rng } from '../../helpers/prng';

/** What a vector-store factory gives the conformance suite. */
export interface ConformanceTarget {
  store: VectorStore;
  /** Waits until writes are visible to queries (eventually consistent stores such as Pinecone); optional. */
  settle?: () => Promise<void>;
  /** Releases resources after the suite. */
  close: () => Promise<void>;
}

const DIM = 16;

function unit(values: number[]): Float32Array {
  const n = Math.sqrt(values.reduce((s, x) => s + x * x, 0));
  return Float32Array.from(values.map((x) => x / n));
}

const randomUnit = (r: () => number) => unit(Array.from({ length: DIM }, () => r() * 2 - 1));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

/**
 * The behaviour every {@link VectorStore} must have, as a Jest suite. Call it at the top level of a test file
 * with a factory; every test uses its own fresh namespace, so the store need not be empty.
 * Covers: cosine scores and ordering, top-k, upsert replacing by id, namespace isolation, metadata equality
 * filters (string, number, boolean, several fields), deleteByFilter and empty results.
 */
export function vectorStoreConformance(name: string, factory: () => Promise<ConformanceTarget>): void {
  describe(`VectorStore conformance: ${name}`, () => {
    let t: ConformanceTarget;
    let nsCounter = 0;
    const ns = () => `conformance-${Date.now().toString(36)}-${process.pid}-${nsCounter++}`;
    const settle = () => t.settle?.() ?? Promise.resolve();

    beforeAll(async () => {
      t = await factory();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('returns the k nearest items by cosine similarity, best first, with their metadata', async () => {
      const r = rng(42);
      const space = ns();
      const items = Array.from({ length: 20 }, (_, i) => ({ id: `item-${i}`, values: randomUnit(r), metadata: { ord: i, label: `l${i}` } }));
      await t.store.upsert(space, items);
      await settle();
      const q = randomUnit(r);
      const expected = items.map((it) => ({ id: it.id, score: cosine(q, it.values) })).sort((a, b) => b.score - a.score);
      const got = await t.store.query(space, q, 5);
      expect(got.map((m) => m.id)).toEqual(expected.slice(0, 5).map((e) => e.id));
      got.forEach((m, i) => expect(m.score).toBeCloseTo(expected[i].score, 4));
      const ord = Number(m0(got).id.split('-')[1]);
      expect(m0(got).metadata).toEqual({ ord, label: `l${ord}` });
    });

    it('scores an identical vector at cosine 1 and an opposite one at -1', async () => {
      const space = ns();
      const v = randomUnit(rng(7));
      await t.store.upsert(space, [
        { id: 'same', values: v, metadata: {} },
        { id: 'opposite', values: v.map((x) => -x), metadata: {} },
      ]);
      await settle();
      const got = await t.store.query(space, v, 2);
      expect(got.map((m) => m.id)).toEqual(['same', 'opposite']);
      expect(got[0].score).toBeCloseTo(1, 4);
      expect(got[1].score).toBeCloseTo(-1, 4);
    });

    it('upsert replaces values and metadata of an existing id', async () => {
      const space = ns();
      const r = rng(3);
      const a = randomUnit(r);
      const b = randomUnit(r);
      await t.store.upsert(space, [{ id: 'x', values: a, metadata: { version: 1 } }]);
      await settle();
      await t.store.upsert(space, [{ id: 'x', values: b, metadata: { version: 2 } }]);
      await settle();
      const got = await t.store.query(space, b, 10);
      expect(got).toHaveLength(1);
      expect(got[0].metadata).toEqual({ version: 2 });
      expect(got[0].score).toBeCloseTo(1, 4);
    });

    it('keeps namespaces apart and returns [] for an empty namespace', async () => {
      const one = ns();
      const two = ns();
      const v = randomUnit(rng(11));
      await t.store.upsert(one, [{ id: 'only-in-one', values: v, metadata: {} }]);
      await settle();
      expect(await t.store.query(two, v, 5)).toEqual([]);
      expect((await t.store.query(one, v, 5)).map((m) => m.id)).toEqual(['only-in-one']);
    });

    it('filters on metadata equality (string, number, boolean; all fields must match)', async () => {
      const space = ns();
      const r = rng(5);
      const items = Array.from({ length: 12 }, (_, i) => ({
        id: `f-${i}`,
        values: randomUnit(r),
        metadata: { doc: i % 3 === 0 ? 'a' : 'b', ord: i % 4, live: i % 2 === 0 },
      }));
      await t.store.upsert(space, items);
      await settle();
      const q = randomUnit(r);
      const check = async (filter: Filter) => {
        const want = items.filter((it) => Object.entries(filter).every(([k, v]) => (it.metadata as Record<string, unknown>)[k] === v)).map((it) => it.id);
        const got = await t.store.query(space, q, 100, filter);
        expect(got.map((m) => m.id).sort()).toEqual(want.sort());
        for (const m of got) for (const [k, v] of Object.entries(filter)) expect(m.metadata[k]).toBe(v);
      };
      await check({ doc: 'a' });
      await check({ ord: 2 });
      await check({ live: false });
      await check({ doc: 'b', live: true });
      await check({ doc: 'zzz' });
    });

    it('deleteByFilter removes exactly the matching items', async () => {
      const space = ns();
      const r = rng(9);
      await t.store.upsert(space, [
        { id: 'd1:0', values: randomUnit(r), metadata: { documentId: 'd1' } },
        { id: 'd1:1', values: randomUnit(r), metadata: { documentId: 'd1' } },
        { id: 'd2:0', values: randomUnit(r), metadata: { documentId: 'd2' } },
      ]);
      await settle();
      await t.store.deleteByFilter(space, { documentId: 'd1' });
      await settle();
      const got = await t.store.query(space, randomUnit(r), 10);
      expect(got.map((m) => m.id)).toEqual(['d2:0']);
    });
  });
}

const m0 = <T>(xs: T[]): T => {
  if (!xs.length) throw new Error('expected at least one match');
  return xs[0];
};
