import { LocalHashEmbedder, dot, fnv1a } from '../../../src/providers/embeddings/local-hash';

const norm = (v: Float32Array) => Math.sqrt(dot(v, v));

describe('LocalHashEmbedder', () => {
  const e = new LocalHashEmbedder();

  it('has id local.hash and 384 dimensions by default', () => {
    expect(e.id).toBe('local.hash');
    expect(e.dimensions).toBe(384);
  });

  it('returns one L2-normalised vector per text, deterministically', async () => {
    const [a, b, c] = await e.embed(['Where is my order?', 'Where is my order?', 'refund policy']);
    expect(a).toHaveLength(384);
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const [again] = await new LocalHashEmbedder().embed(['Where is my order?']);
    expect(Array.from(again)).toEqual(Array.from(a));
  });

  it('ignores case, accents and punctuation', async () => {
    const [a, b] = await e.embed(['Café opening HOURS!!', 'cafe opening hours']);
    expect(dot(a, b)).toBeCloseTo(1, 5);
  });

  it('scores shared words and near-spellings above unrelated text', async () => {
    const [q, same, typo, other] = await e.embed(['what is your refund policy', 'Our refund policy lets you return items', 'refund polcy', 'the weather in Paris is sunny']);
    expect(dot(q, same)).toBeGreaterThan(0.3);
    expect(dot(q, typo)).toBeGreaterThan(0.3); // character trigrams survive a typo
    expect(Math.abs(dot(q, other))).toBeLessThan(0.15);
    expect(dot(q, same)).toBeGreaterThan(dot(q, other) + 0.2);
  });

  it('gives the zero vector for text with no words and honours custom dimensions', async () => {
    const [z] = await e.embed(['?!']);
    expect(norm(z)).toBe(0);
    const [small] = await new LocalHashEmbedder({ dimensions: 64 }).embed(['hello world']);
    expect(small).toHaveLength(64);
    expect(() => new LocalHashEmbedder({ dimensions: 0 })).toThrow(RangeError);
  });

  it('hashes well: fnv1a+fmix spreads short strings uniformly over buckets and signs', () => {
    const buckets = new Array(384).fill(0);
    let positive = 0;
    const n = 38_400;
    for (let i = 0; i < n; i++) {
      const h = fnv1a(`w:token${i}`);
      buckets[h % 384]++;
      if (fnv1a(`w:token${i}`, 0x5bd1e995) & 1) positive++;
    }
    // Chi-square against uniform (383 degrees of freedom; the 99.9th percentile is about 475).
    const expected = n / 384;
    const chi2 = buckets.reduce((s, c) => s + ((c - expected) ** 2) / expected, 0);
    expect(chi2).toBeLessThan(475);
    expect(Math.abs(positive / n - 0.5)).toBeLessThan(0.02);
  });

  it('derives signs independently of character parity (anagrams get unrelated signs)', () => {
    // Plain FNV-1a's lowest bit is the XOR of the inputs' lowest bits, so anagrams would always share a sign.
    let agree = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const w = `ab${i}cd`;
      const anagram = w.split('').reverse().join('');
      if ((fnv1a(w, 0x5bd1e995) & 1) === (fnv1a(anagram, 0x5bd1e995) & 1)) agree++;
    }
    expect(Math.abs(agree / n - 0.5)).toBeLessThan(0.05);
  });
});
