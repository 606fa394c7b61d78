import { splitSentences } from './text';

export interface ChunkOptions {
  /** Target maximum chunk length in characters (default 500). */
  maxChars?: number;
  /** Trailing characters of one chunk repeated at the start of the next, whole sentences only (default 120). */
  overlapChars?: number;
}

/**
 * Splits a document into retrieval chunks of about `maxChars` characters, respecting structure: paragraphs (blank
 * lines) are kept whole when they fit, otherwise split at sentence ends; a sentence longer than `maxChars` is cut
 * at word boundaries. Consecutive chunks of the same paragraph share up to `overlapChars` of trailing whole
 * sentences so a fact at a boundary is retrievable from either side. Whitespace inside a chunk is collapsed.
 * Returns [] for blank text. @throws RangeError when `maxChars` < 50 or `overlapChars` is negative or ≥ maxChars/2.
 */
export function chunkText(text: string, o: ChunkOptions = {}): string[] {
  const maxChars = o.maxChars ?? 500;
  const overlapChars = o.overlapChars ?? 120;
  if (maxChars < 50) throw new RangeError('maxChars must be at least 50');
  if (overlapChars < 0 || overlapChars >= maxChars / 2) throw new RangeError('overlapChars must be in [0, maxChars/2)');

  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

  const chunks: string[] = [];
  let current: string[] = []; // sentences of the chunk being built
  const len = (parts: string[]) => parts.join(' ').length;
  const flush = () => {
    if (current.length) chunks.push(current.join(' '));
    current = [];
  };

  for (const para of paragraphs) {
    // A whole paragraph that fits next to what we have stays together.
    if (len([...current, para]) <= maxChars) {
      current.push(para);
      continue;
    }
    flush();
    for (const sentence of splitSentences(para).flatMap((s) => splitLong(s, maxChars))) {
      if (current.length && len([...current, sentence]) > maxChars) {
        const prev = current;
        flush();
        current = overlapTail(prev, overlapChars, maxChars - sentence.length - 1);
      }
      current.push(sentence);
    }
    flush(); // paragraphs that needed splitting do not share a chunk with the next paragraph
  }
  flush();
  return chunks;
}

/** Trailing whole sentences of `parts` totalling at most `budget` (and at most `limit`) characters. */
function overlapTail(parts: string[], budget: number, limit: number): string[] {
  const tail: string[] = [];
  for (let i = parts.length - 1; i > 0; i--) {
    if (joinedLength(tail, parts[i]) > Math.min(budget, limit)) break;
    tail.unshift(parts[i]);
  }
  return tail;
}

/** Length of `extra` prepended to `tail`, joined with spaces. */
const joinedLength = (tail: string[], extra: string) => [extra, ...tail].join(' ').length;

/** Cuts a sentence longer than `max` at word boundaries (a single word longer than `max` is hard-cut). */
function splitLong(sentence: string, max: number): string[] {
  if (sentence.length <= max) return [sentence];
  const out: string[] = [];
  let cur = '';
  for (const word of sentence.split(' ')) {
    for (let w = word; w; ) {
      const piece = w.slice(0, max);
      w = w.slice(max);
      if (cur && cur.length + 1 + piece.length > max) {
        out.push(cur);
        cur = piece;
      } else cur = cur ? `${cur} ${piece}` : piece;
    }
  }
  if (cur) out.push(cur);
  return out;
}
