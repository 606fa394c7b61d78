import { chunkText } from '../../../src/knowledge/chunker';
import { splitSentences, stem, tokenize } from '../../../src/knowledge/text';

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i} in some detail for the reader.`;

describe('chunkText', () => {
  it('keeps short paragraphs together in one chunk', () => {
    const text = 'Opening hours.\n\nWe are open Monday to Friday.\n\nClosed on Sundays.';
    expect(chunkText(text)).toEqual(['Opening hours. We are open Monday to Friday. Closed on Sundays.']);
  });

  it('returns [] for blank text', () => {
    expect(chunkText('  \n\n \t ')).toEqual([]);
  });

  it('splits long paragraphs at sentence ends, within maxChars, with whole-sentence overlap', () => {
    const sentences = Array.from({ length: 30 }, (_, i) => sentence(i));
    const chunks = chunkText(sentences.join(' '), { maxChars: 300, overlapChars: 100 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(300);
      expect(c.endsWith('.')).toBe(true); // never cut mid-sentence
    }
    // Every sentence appears somewhere, in order.
    const all = chunks.join(' ');
    let last = -1;
    for (const s of sentences) {
      const at = all.indexOf(s, last + 1);
      expect(at).toBeGreaterThan(last);
      last = at;
    }
    // Consecutive chunks overlap: the next chunk starts with the previous chunk's last sentence.
    for (let i = 1; i < chunks.length; i++) {
      const prevLast = splitSentences(chunks[i - 1]).pop()!;
      expect(chunks[i].startsWith(prevLast)).toBe(true);
    }
  });

  it('starts a new chunk at a paragraph boundary rather than mixing a split paragraph with the next', () => {
    const long = Array.from({ length: 10 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkText(`${long}\n\nShort closing paragraph.`, { maxChars: 300, overlapChars: 0 });
    expect(chunks[chunks.length - 1]).toBe('Short closing paragraph.');
  });

  it('cuts a single over-long sentence at word boundaries', () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(words, { maxChars: 100, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(100);
    expect(chunks.join(' ')).toBe(words);
  });

  it('rejects nonsensical options', () => {
    expect(() => chunkText('x', { maxChars: 10 })).toThrow(RangeError);
    expect(() => chunkText('x', { maxChars: 200, overlapChars: 150 })).toThrow(RangeError);
  });
});

describe('text normalisation', () => {
  it('lower-cases, strips accents, apostrophes and punctuation', () => {
    expect(tokenize("Café, I'm OPEN—today!")).toEqual(['cafe', 'im', 'open', 'today']);
  });

  it('stems common English suffixes consistently', () => {
    expect(['close', 'closed', 'closing', 'closes'].map(stem)).toEqual(['clos', 'clos', 'clos', 'clos']);
    expect(['shipped', 'shipping', 'ships'].map(stem)).toEqual(['ship', 'ship', 'ship']);
    expect(['refunds', 'refunded', 'refund'].map(stem)).toEqual(['refund', 'refund', 'refund']);
    expect(stem('deliveries')).toBe('delivery');
    expect(stem('calling')).toBe('call');
    expect(stem('bus')).toBe('bus');
  });
});
