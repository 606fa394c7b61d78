import { dominantLanguage, summarizeTranscript, wordCount, type SummaryTurn } from '../../../src/analytics/transcript';

const t = (role: 'caller' | 'agent', text: string, language: string | null, intent: string | null = null, startMs = 0, endMs = 1000): SummaryTurn => ({
  role, text, language, intent, startMs, endMs,
});

describe('summarizeTranscript', () => {
  it('picks the caller language with most words, not most turns', () => {
    const s = summarizeTranscript([
      t('agent', 'Hello how can I help you today with anything at all', 'en'),
      t('caller', 'hola', 'es'),
      t('caller', 'sí', 'es'),
      t('caller', 'I would like to know about my order status please', 'en'),
    ]);
    expect(s.language).toBe('en');
  });

  it('falls back to agent languages when caller turns have none', () => {
    expect(summarizeTranscript([t('agent', 'Bonjour, comment puis-je vous aider', 'fr'), t('caller', '', null)]).language).toBe('fr');
    expect(summarizeTranscript([]).language).toBeNull();
  });

  it("takes the last caller intent that is not 'unknown'", () => {
    const s = summarizeTranscript([
      t('caller', 'a', 'en', 'billing'),
      t('agent', 'b', 'en', 'fallback'),
      t('caller', 'c', 'en', 'opening_hours'),
      t('caller', 'd', 'en', 'unknown'),
    ]);
    expect(s.intent).toBe('opening_hours');
    expect(summarizeTranscript([t('caller', 'x', 'en', 'unknown')]).intent).toBeNull();
  });

  it('counts turns and words and measures the span', () => {
    const s = summarizeTranscript([
      { ...t('agent', 'Hi there', 'en', null, 0, 900) },
      { ...t('caller', 'one two three', 'en', null, 1500, 2600), interrupted: true },
    ]);
    expect(s.counts).toEqual({ turns: 2, callerTurns: 1, agentTurns: 1, callerWords: 3, agentWords: 2, interruptedTurns: 1 });
    expect(s.spanMs).toBe(2600);
  });
});

describe('wordCount / dominantLanguage', () => {
  it('counts whitespace-separated words', () => {
    expect(wordCount('  a  b\tc\n')).toBe(3);
    expect(wordCount('   ')).toBe(0);
  });
  it('ignores untagged turns', () => {
    expect(dominantLanguage([t('caller', 'many many words here', null), t('caller', 'hola', 'es')])).toBe('es');
  });
});
