import type { CallOptions, Embedder } from '../types';
import { ProviderError } from '../errors';
import { STOPWORDS, stem, tokenize } from '../../knowledge/text';

/**
 * 32-bit FNV-1a over UTF-16 code units (Fowler–Noll–Vo, offset basis 0x811c9dc5, prime 0x01000193), with a seed
 * folded into the basis, followed by MurmurHash3's fmix32 finalizer. FNV's multiply only carries bits upwards, so
 * its low bits (used by `% dimensions` and for the sign) depend only on the inputs' low bits; the finalizer mixes
 * every input bit into every output bit. Returns an unsigned 32-bit integer.
 */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Feature weights: whole words dominate, bigrams add word order, character trigrams add robustness to misspellings. */
const W_UNIGRAM = 1.0;
const W_BIGRAM = 0.6;
const W_TRIGRAM = 0.2;
/** Each feature is added to PROBES buckets (independent seeds), so one collision moves a similarity half as much. */
const PROBES = 2;
const PROBE_SEEDS = [0, 0x9e3779b9];

/**
 * Offline, deterministic text embedder using the signed hashing trick (Weinberger et al. 2009, "Feature Hashing
 * for Large Scale Multitask Learning"): every feature is hashed with FNV-1a to a bucket in [0, dimensions) and a
 * second, independent hash picks its sign (+1/−1), which keeps inner products unbiased; each feature is hashed
into 2 buckets with independent seeds, which halves the effect of any single collision on a similarity. Features of a text are
 * lower-cased, accent- and punctuation-stripped, lightly stemmed content words (stopwords removed unless the text
 * has nothing else): word unigrams, word bigrams and character trigrams of `#word#`. The vector is L2-normalised,
 * so the dot product of two vectors is their cosine similarity. An empty text gives the zero vector.
 *
 * No network, no model: good for tests, the demo and as a last-resort fallback — it captures shared words and
 * spelling, not meaning (no synonyms).
 */
export class LocalHashEmbedder implements Embedder {
  readonly id = 'local.hash';
  readonly dimensions: number;

  /** @param o.dimensions vector length (default 384). @throws RangeError when not a positive integer. */
  constructor(o: { dimensions?: number } = {}) {
    const d = o.dimensions ?? 384;
    if (!Number.isInteger(d) || d <= 0) throw new RangeError(`dimensions must be a positive integer, got ${d}`);
    this.dimensions = d;
  }

  /**
   * Embeds each text (see class doc). @throws ProviderError (not retryable) when an input is not a string;
   * `o.signal.reason` when the signal has already fired (the work itself is synchronous and short).
   */
  async embed(texts: string[], o: CallOptions = {}): Promise<Float32Array[]> {
    o.signal?.throwIfAborted();
    return texts.map((t) => {
      if (typeof t !== 'string') throw new ProviderError(this.id, 'embed() expects strings', { retryable: false });
      return this.embedOne(t);
    });
  }

  /** Synchronous form of {@link embed} for one text. */
  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const toks = tokenize(text);
    const content = toks.filter((t) => !STOPWORDS.has(t));
    const words = (content.length ? content : toks).map(stem);
    const add = (feature: string, weight: number) => {
      for (let p = 0; p < PROBES; p++) {
        const h = fnv1a(feature, PROBE_SEEDS[p]);
        const sign = fnv1a(feature, PROBE_SEEDS[p] ^ 0x5bd1e995) & 1 ? 1 : -1;
        v[h % this.dimensions] += sign * weight;
      }
    };
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      add(`w:${w}`, W_UNIGRAM);
      if (i + 1 < words.length) add(`b:${w} ${words[i + 1]}`, W_BIGRAM);
      const padded = `#${w}#`;
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, W_TRIGRAM);
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i] *= inv;
    }
    return v;
  }
}

/** Dot product of two equal-length vectors (= cosine similarity for L2-normalised ones). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
