import { SentenceChunker } from '../../../src/engine/sentence-chunker';

describe('SentenceChunker', () => {
  it('emits each sentence as soon as it is complete, across deltas', () => {
    const c = new SentenceChunker();
    expect(c.push('We are open Mon')).toEqual([]);
    expect(c.push('day to Friday. Refunds take')).toEqual(['We are open Monday to Friday.']);
    expect(c.push(' five days! Anything')).toEqual(['Refunds take five days!']);
    expect(c.flush()).toEqual(['Anything']);
    expect(c.flush()).toEqual([]);
  });

  it('does not split on abbreviations or decimals, and cuts long clauses at commas', () => {
    const c = new SentenceChunker(20);
    expect(c.push('Ask for Mr. Smith at 9.30 today. ')).toEqual(['Ask for Mr. Smith at 9.30 today.']);
    expect(c.push('Short, ')).toEqual([]);
    expect(c.push('but this clause is long enough, so it goes')).toEqual(['Short, but this clause is long enough,']);
  });
});
