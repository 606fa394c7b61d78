import { COMMON_ENGLISH_WORDS } from './common-words';

/** A near-miss replaced by {@link correctTranscript}: the transcript text `from`, the vocabulary spelling `to`, their edit distance. */
export interface VocabularyCorrection {
  from: string;
  to: string;
  /** Damerau-Levenshtein (optimal string alignment) distance between the lowercase forms, a space counting as a character. */
  distance: number;
}

/** Tuning of {@link correctTranscript}. */
export interface VocabularyOptions {
  /** Most edits allowed, as a share of the shorter of the two lengths (rounded down). Default 0.34: 1 edit for 3–5 letters, 2 for 6–8, 3 for 9–11. Must be in (0, 1). */
  maxDistanceRatio?: number;
  /** Shortest transcript word (letters and digits, for a joined span all its words) that may be corrected. Default 4; an integer ≥ 1. */
  minWordLength?: number;
}

/** A vocabulary entry, split into words; `key` is its lowercase words joined by one space. */
interface Entry {
  spelling: string;
  key: string;
}

/** A word of the transcript and where it sits in the text. */
interface Word {
  start: number;
  end: number;
  text: string;
  /** Lowercase, apostrophes removed. */
  key: string;
  /** `key` without a trailing possessive `'s` when the word has one, else null. */
  baseKey: string | null;
  common: boolean;
}

/** Longest span of transcript words tried against the vocabulary: entries of up to 3 words, or 3 words heard as 4. */
const MAX_SPAN_WORDS = 4;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;
const POSSESSIVE = /['’]s$/iu;
/** Words of one span may be separated only by whitespace or a hyphen ("dash wood", "dash-wood"). */
const JOINABLE_GAP = /^[\s-]+$/u;

/**
 * Corrects near-misses of an agent's domain vocabulary (product names, places, jargon that STT mishears, e.g.
 * "Acme", "Dashwood") in one STT transcript. A light post-correction, off when `vocabulary` is empty.
 *
 * Rules:
 * - Words are runs of letters and digits with inner apostrophes (`don't`, `Acme's`); everything else (spaces,
 *   punctuation) and every word not corrected is kept byte for byte. Words are compared lowercase without apostrophes.
 * - Spans of 1 to {@link MAX_SPAN_WORDS} adjacent words, separated only by whitespace or hyphens, are compared with
 *   each entry (its words joined by one space), so "dash wood" → "Dashwood" and "acne plus" → "Acme Plus"; a space
 *   counts as one character, so a join or split costs one edit. At each word the longest span with a decision wins.
 * - Distance: Damerau-Levenshtein, optimal string alignment (an adjacent transposition is one edit). A span is replaced
 *   by the closest entry only when 1 ≤ distance ≤ floor(min(span length, entry length) × `maxDistanceRatio`) and the
 *   span has at least `minWordLength` letters/digits. Entries more than that many characters longer or shorter are
 *   never compared (the pre-filter that keeps ~500 entries × ~100 words cheap).
 * - Left alone: a span equal to an entry (distance 0: already right, whatever its casing) or an English inflection
 *   of one (entry + "s"/"es" or the reverse: "club" when the vocabulary has "clubs"); a span whose two closest entries
 *   are equally close (a tie); a span made only of common English words ({@link COMMON_ENGLISH_WORDS}, a few
 *   hundred; "the", "was", "young", …); a span with a word containing a digit; a multi-word span when the span
 *   without its first or last word is as close to the entry (so "a dashwod" corrects only "dashwod", and "acme plus
 *   it" is not "Acme Plus" with a word lost).
 * - A possessive `'s` on the last word is set aside when that matches better and kept: "Dashwod's" → "Dashwood's".
 * - The replacement is the entry as the vocabulary spells it (trimmed, inner whitespace collapsed to one space).
 *   Entries whose lowercase forms are equal count once (the first spelling wins); entries with no letters or digits
 *   are ignored.
 * @returns the corrected text and one {@link VocabularyCorrection} per replacement, in text order; `text` unchanged
 *   and no corrections when the vocabulary is empty.
 * @throws RangeError when `maxDistanceRatio` is not in (0, 1) or `minWordLength` is not an integer ≥ 1.
 */
export function correctTranscript(
  text: string,
  vocabulary: readonly string[],
  o: VocabularyOptions = {},
): { text: string; corrections: VocabularyCorrection[] } {
  const ratio = o.maxDistanceRatio ?? 0.34;
  const minLength = o.minWordLength ?? 4;
  if (!(Number.isFinite(ratio) && ratio > 0 && ratio < 1)) throw new RangeError(`correctTranscript: maxDistanceRatio must be in (0, 1), got ${o.maxDistanceRatio}`);
  if (!(Number.isInteger(minLength) && minLength >= 1)) throw new RangeError(`correctTranscript: minWordLength must be an integer ≥ 1, got ${o.minWordLength}`);
  const vocab = compile(vocabulary);
  if (!vocab.size || !text) return { text, corrections: [] };

  const words = tokenize(text);
  const corrections: VocabularyCorrection[] = [];
  let out = '';
  let copied = 0;
  for (let i = 0; i < words.length; ) {
    let advanced = false;
    for (let n = Math.min(MAX_SPAN_WORDS, words.length - i); n >= 1; n--) {
      const span = words.slice(i, i + n);
      if (n > 1 && !joinable(text, span)) continue;
      const d = decide(span, vocab, ratio, minLength);
      if (!d) continue;
      if (d.kind === 'fix') {
        const first = span[0];
        const last = span[n - 1];
        const from = text.slice(first.start, last.end);
        const to = d.entry.spelling + (d.possessive ? last.text.slice(-2) : '');
        out += text.slice(copied, first.start) + to;
        copied = last.end;
        corrections.push({ from, to, distance: d.distance });
      }
      i += n;
      advanced = true;
      break;
    }
    if (!advanced) i++;
  }
  return { text: out + text.slice(copied), corrections };
}

/** Decision for one span: replace it (`fix`), keep it as it is (`keep`: already an entry or an inflection of one), or none (try a shorter span). */
type Decision = { kind: 'fix'; entry: Entry; distance: number; possessive: boolean } | { kind: 'keep' } | null;

function decide(span: readonly Word[], vocab: Vocabulary, ratio: number, minLength: number): Decision {
  if (span.some((w) => /\p{N}/u.test(w.key))) return null;
  const forms: Array<{ key: string; possessive: boolean }> = [{ key: span.map((w) => w.key).join(' '), possessive: false }];
  const last = span[span.length - 1];
  if (last.baseKey) forms.push({ key: [...span.slice(0, -1).map((w) => w.key), last.baseKey].join(' '), possessive: true });
  if (forms.some((f) => isKnown(f.key, vocab.keys))) return { kind: 'keep' };
  if (span.every((w) => w.common)) return null;
  if (span.reduce((s, w) => s + w.key.length, 0) < minLength) return null;

  let best: { entry: Entry; distance: number; possessive: boolean } | null = null;
  let tied = false;
  for (const f of forms) {
    const reach = Math.floor(f.key.length * ratio);
    for (let len = f.key.length - reach; len <= f.key.length + reach; len++) {
      for (const e of vocab.byLength.get(len) ?? []) {
        const max = Math.floor(Math.min(f.key.length, len) * ratio);
        if (Math.abs(f.key.length - len) > max) continue;
        const distance = osaDistance(f.key, e.key, max);
        if (distance > max) continue;
        if (!best || distance < best.distance) {
          best = { entry: e, distance, possessive: f.possessive };
          tied = false;
        } else if (distance === best.distance && best.entry !== e) {
          tied = true;
        }
      }
    }
  }
  if (!best || tied) return null;
  if (span.length > 1) {
    // A join must be what makes the match: the span without its first or its last word may not be as close to the
    // entry (so "a dashwod" corrects only "dashwod", and "acme plus it" is not "Acme Plus" with an extra word).
    const { entry, distance } = best;
    const sub = (ws: readonly Word[]) => osaDistance(ws.map((w) => w.key).join(' '), entry.key, distance) <= distance;
    if (sub(span.slice(1)) || sub(span.slice(0, -1))) return null;
  }
  return { kind: 'fix', ...best };
}

/** Whether `key` is an entry, or one with an English plural/3rd-person ending added or removed ("club"/"clubs", "box"/"boxes"). */
function isKnown(key: string, keys: ReadonlySet<string>): boolean {
  if (keys.has(key) || keys.has(`${key}s`) || keys.has(`${key}es`)) return true;
  return (key.endsWith('s') && keys.has(key.slice(0, -1))) || (key.endsWith('es') && keys.has(key.slice(0, -2)));
}

/** Whether the words of `span` are separated only by whitespace or hyphens in `text`. */
function joinable(text: string, span: readonly Word[]): boolean {
  for (let k = 1; k < span.length; k++) if (!JOINABLE_GAP.test(text.slice(span[k - 1].end, span[k].start))) return false;
  return true;
}

/** The words of `text` with their offsets (see {@link correctTranscript} for what a word is). */
function tokenize(text: string): Word[] {
  const words: Word[] = [];
  for (const m of text.matchAll(WORD)) {
    const key = normalize(m[0]);
    const baseKey = POSSESSIVE.test(m[0]) ? normalize(m[0].slice(0, -2)) : null;
    words.push({ start: m.index, end: m.index + m[0].length, text: m[0], key, baseKey, common: COMMON_ENGLISH_WORDS.has(key) });
  }
  return words;
}

/** Lowercase, apostrophes removed. */
function normalize(word: string): string {
  return word.toLowerCase().replace(/['’]/gu, '');
}

/** The usable entries of a vocabulary, by key length, and the set of their keys. */
interface Vocabulary {
  byLength: Map<number, Entry[]>;
  keys: Set<string>;
  size: number;
}

/** The usable entries of `vocabulary`: keyed by their lowercase words, first spelling of each key kept. */
function compile(vocabulary: readonly string[]): Vocabulary {
  const byLength = new Map<number, Entry[]>();
  const keys = new Set<string>();
  for (const raw of vocabulary) {
    const words = raw.match(WORD);
    if (!words) continue;
    const key = words.map(normalize).join(' ');
    if (keys.has(key)) continue;
    keys.add(key);
    const entry = { spelling: raw.trim().replace(/\s+/gu, ' '), key };
    const same = byLength.get(key.length);
    if (same) same.push(entry);
    else byLength.set(key.length, [entry]);
  }
  return { byLength, keys, size: keys.size };
}

/**
 * Optimal string alignment distance (Damerau-Levenshtein where a transposed pair is one edit and no substring is
 * edited twice) between `a` and `b`, UTF-16 code units. Stops early once every path exceeds `max` and then returns
 * `max + 1`, so the result is exact only when it is ≤ `max`.
 */
export function osaDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  if (rows[0].length <= n) rows = [0, 1, 2].map(() => new Int32Array(2 * (n + 1)));
  let [prev2, prev, cur] = rows;
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // A row's minimum is at least min(previous row's, the one before's + 1), and the previous row's is at most the one
    // before's + 1: once a row is over max, every later row is.
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n] > max ? max + 1 : prev[n];
}

/** Scratch rows of {@link osaDistance} (reused: it runs synchronously, thousands of times per transcript). */
let rows: Int32Array[] = [0, 1, 2].map(() => new Int32Array(64));
