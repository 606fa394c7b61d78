import { correctTranscript, osaDistance } from '../../../src/domain/vocabulary';

const VOCAB = ['Acme', 'Dashwood', 'clubs', 'Acme Plus'];
const fix = (text: string, vocabulary: readonly string[] = VOCAB, o?: Parameters<typeof correctTranscript>[2]) => correctTranscript(text, vocabulary, o);

describe('osaDistance', () => {
  it.each([
    ['acme', 'acme', 0],
    ['acne', 'acme', 1],
    ['dashwod', 'dashwood', 1],
    ['dashowod', 'dashwood', 1], // one transposition
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['dash wood', 'dashwood', 1],
  ])('%s → %s = %i', (a, b, d) => {
    expect(osaDistance(a, b)).toBe(d);
    expect(osaDistance(b, a)).toBe(d);
  });

  it('stops at max + 1 once every alignment is over the limit', () => {
    expect(osaDistance('kitten', 'sitting', 1)).toBe(2);
    expect(osaDistance('abcdefgh', 'zyxwvuts', 2)).toBe(3);
    expect(osaDistance('abc', 'abcdefg', 2)).toBe(3); // length difference alone
  });
});

describe('correctTranscript', () => {
  it('corrects a near-miss to the vocabulary spelling and reports it', () => {
    expect(fix('I live near Dashwod.')).toEqual({ text: 'I live near Dashwood.', corrections: [{ from: 'Dashwod', to: 'Dashwood', distance: 1 }] });
    expect(fix('is acne open on sunday')).toEqual({ text: 'is Acme open on sunday', corrections: [{ from: 'acne', to: 'Acme', distance: 1 }] });
  });

  it('counts an adjacent transposition as one edit', () => {
    expect(fix('the dashowod branch').text).toBe('the Dashwood branch');
  });

  it('allows 2 edits from 6 letters on and 1 below', () => {
    expect(fix('dashwd road', ['Dashwood']).text).toBe('Dashwood road'); // 6 letters, 2 deletions
    expect(fix('acn', ['Acme'], { minWordLength: 3 }).text).toBe('acn'); // 3 letters: 1 edit only, this is 2
    expect(fix('axne', ['Acme']).text).toBe('axne'); // 4 letters, 2 edits
  });

  it('leaves alone words too far from every entry', () => {
    expect(fix('I need a refund for my blender')).toEqual({ text: 'I need a refund for my blender', corrections: [] });
    expect(fix('Dashboard', ['Dashwood']).text).toBe('Dashboard'); // 3 edits
  });

  it('never corrects a common English word, however close', () => {
    expect(fix('was it young', ['Wass', 'Yung']).text).toBe('was it young');
    expect(fix('I want the main man', ['Wants', 'Mainz', 'Mann']).corrections).toEqual([]);
    expect(fix('one more time', ['Mores', 'Tyme']).corrections).toEqual([]);
  });

  it('leaves words shorter than minWordLength alone, and honours a custom one', () => {
    expect(fix('call Bix now', ['Bax']).text).toBe('call Bix now');
    expect(fix('call Bix now', ['Bax'], { minWordLength: 3 }).text).toBe('call Bax now');
    expect(fix('acne', ['Acme'], { minWordLength: 5 }).text).toBe('acne');
  });

  it('honours maxDistanceRatio', () => {
    expect(fix('dashwd', ['Dashwood'], { maxDistanceRatio: 0.2 }).text).toBe('dashwd'); // floor(6 × 0.2) = 1 edit
    expect(fix('dashwod', ['Dashwood'], { maxDistanceRatio: 0.2 }).text).toBe('Dashwood');
  });

  it('leaves a word alone when two entries are equally close (a tie)', () => {
    expect(fix('ask about the Bolt deal', ['Bold', 'Boat']).text).toBe('ask about the Bolt deal');
    // A closer entry breaks the tie.
    expect(fix('ask about Bolte', ['Bolt', 'Bolter', 'Bolted']).text).toBe('ask about Bolte');
    expect(fix('ask about Boltz', ['Bolts', 'Boltzmann']).text).toBe('ask about Bolts');
  });

  it('keeps a word that is already an entry, in any casing, even when another entry is one edit away', () => {
    expect(fix('ACME and acme', ['Acme', 'Acne']).corrections).toEqual([]);
    expect(fix('the acne cream', ['Acme', 'Acne']).text).toBe('the acne cream');
  });

  it('keeps an inflection of an entry (plural / 3rd person)', () => {
    expect(fix('I joined the club', ['clubs']).text).toBe('I joined the club');
    expect(fix('two boxes', ['Box']).corrections).toEqual([]);
    expect(fix('the clobs are open').text).toBe('the clubs are open');
  });

  it('preserves punctuation, spacing and the casing of untouched words', () => {
    const r = fix('  Hi!  Is ACNE open?\n"Dashwod", right…  ');
    expect(r.text).toBe('  Hi!  Is Acme open?\n"Dashwood", right…  ');
    expect(r.corrections.map((c) => [c.from, c.to])).toEqual([['ACNE', 'Acme'], ['Dashwod', 'Dashwood']]);
  });

  it("keeps a possessive 's while correcting the name", () => {
    expect(fix("Dashwod's opening hours").text).toBe("Dashwood's opening hours");
    expect(fix('Acne’s app').text).toBe('Acme’s app');
    expect(fix("McDonald's", ["McDonald's"]).corrections).toEqual([]);
  });

  it('joins adjacent words into a one-word entry', () => {
    expect(fix('the dash wood store')).toEqual({ text: 'the Dashwood store', corrections: [{ from: 'dash wood', to: 'Dashwood', distance: 1 }] });
    expect(fix('the Dash-wood store').text).toBe('the Dashwood store');
    expect(fix('the dash. Wood store').text).toBe('the dash. Wood store'); // punctuation between: not joined
  });

  it('matches multi-word entries against adjacent words', () => {
    expect(fix('I have acne plus.')).toEqual({ text: 'I have Acme Plus.', corrections: [{ from: 'acne plus', to: 'Acme Plus', distance: 1 }] });
    expect(fix('I have acmeplus.').text).toBe('I have Acme Plus.'); // a split costs one edit
    expect(fix('acme plus it is').corrections).toEqual([]); // already right
  });

  it('does not swallow a neighbouring word into a join', () => {
    expect(fix('a dashwod').text).toBe('a Dashwood');
    expect(fix('in Dashwood today').corrections).toEqual([]);
    expect(fix('a came', ['Acme']).text).toBe('a came'); // common words only
  });

  it('leaves words with digits alone', () => {
    expect(fix('order 2001 from Acme2', ['2000', 'Acme']).corrections).toEqual([]);
  });

  it('corrects several words in one transcript, in text order', () => {
    const r = fix('acne clobs near dashwod');
    expect(r.text).toBe('Acme clubs near Dashwood');
    expect(r.corrections.map((c) => c.to)).toEqual(['Acme', 'clubs', 'Dashwood']);
  });

  it('returns the text unchanged with an empty or unusable vocabulary', () => {
    expect(fix('acne dashwod', [])).toEqual({ text: 'acne dashwod', corrections: [] });
    expect(fix('acne dashwod', ['', '  ', '—'])).toEqual({ text: 'acne dashwod', corrections: [] });
    expect(fix('', VOCAB)).toEqual({ text: '', corrections: [] });
  });

  it('uses the first spelling of entries that differ only in case, and trims entries', () => {
    expect(fix('acne', ['  ACME ', 'Acme']).text).toBe('ACME');
    expect(fix('dash wod', ['Dash   Wood']).text).toBe('Dash Wood');
  });

  it('rejects bad options', () => {
    expect(() => fix('x', VOCAB, { maxDistanceRatio: 0 })).toThrow(RangeError);
    expect(() => fix('x', VOCAB, { maxDistanceRatio: 1 })).toThrow(/maxDistanceRatio/);
    expect(() => fix('x', VOCAB, { maxDistanceRatio: Number.NaN })).toThrow(RangeError);
    expect(() => fix('x', VOCAB, { minWordLength: 0 })).toThrow(/minWordLength/);
    expect(() => fix('x', VOCAB, { minWordLength: 2.5 })).toThrow(RangeError);
  });

  it('handles a 500-entry vocabulary on a 100-word transcript', () => {
    const vocabulary = Array.from({ length: 499 }, (_, i) => `Product${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`).concat('Dashwood');
    const text = Array.from({ length: 20 }, () => 'please send the dashwod invoice').join(' ');
    const r = correctTranscript(text, vocabulary);
    expect(r.corrections).toHaveLength(20);
    expect(r.text).not.toMatch(/dashwod/);
  });
});
