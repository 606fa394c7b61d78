import { normalizeWords, wordErrorRate } from '../../../src/eval/wer';

describe('wordErrorRate', () => {
  it('is 0 for identical text after case and punctuation normalisation', () => {
    expect(wordErrorRate('Hello, World!', 'hello world')).toEqual({ wer: 0, substitutions: 0, deletions: 0, insertions: 0, referenceWords: 2 });
  });

  it('counts substitutions, deletions and insertions (sclite-style minimum edit)', () => {
    expect(wordErrorRate('he was not an ill disposed young man', 'he was not a build those young man')).toMatchObject({ substitutions: 3, deletions: 0, insertions: 0, referenceWords: 8, wer: 3 / 8 });
    expect(wordErrorRate('a b c d', 'a c d')).toMatchObject({ deletions: 1, substitutions: 0, insertions: 0, wer: 0.25 });
    expect(wordErrorRate('a b', 'x a b y')).toMatchObject({ insertions: 2, wer: 1 });
    expect(wordErrorRate('a b c', '')).toMatchObject({ deletions: 3, wer: 1 });
  });

  it('can exceed 1 with many insertions and handles empty references', () => {
    expect(wordErrorRate('yes', 'no no no').wer).toBe(3);
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('', 'noise').wer).toBe(Infinity);
  });

  it('keeps apostrophes inside words and drops quotes', () => {
    expect(normalizeWords(`"Don't" — it's 'fine', ok?`)).toEqual(["don't", "it's", 'fine', 'ok']);
    expect(normalizeWords('¿Qué tal, señor?')).toEqual(['qué', 'tal', 'señor']);
  });
});
