import { decideLanguage, iso3to1 } from '../../../src/engine/language';

describe('language decision', () => {
  const supported = ['en', 'es', 'fr', 'de'];

  it('maps ISO 639-3 to 639-1', () => {
    expect(iso3to1('spa')).toBe('es');
    expect(iso3to1('und')).toBeUndefined();
  });

  it('uses franc on long enough text restricted to the agent languages', () => {
    expect(decideLanguage({ text: 'Hola, quisiera saber el horario de atención de la tienda, por favor', prior: 'en', supported }).language).toBe('es');
    expect(decideLanguage({ text: 'I would like to know when the store opens tomorrow morning', prior: 'es', supported }).language).toBe('en');
  });

  it('keeps the prior on short utterances', () => {
    const d = decideLanguage({ text: 'sí', prior: 'en', supported });
    expect(d).toMatchObject({ language: 'en', source: 'prior' });
  });

  it('trusts the STT language id when franc agrees or the text is long enough', () => {
    expect(decideLanguage({ text: 'bonjour merci beaucoup', sttLanguage: 'fr', prior: 'en', supported }).language).toBe('fr');
    expect(decideLanguage({ text: 'ok', sttLanguage: 'de', prior: 'en', supported }).language).toBe('en');
  });

  it('a single-language agent detects what was spoken but answers in its own language', () => {
    expect(decideLanguage({ text: 'he was not a build those young man', supported: ['en'] })).toMatchObject({ language: 'en', replyLanguage: 'en', source: 'franc' });
    expect(decideLanguage({ text: 'Hola, quisiera saber el horario de atención de la tienda', supported: ['en'] })).toMatchObject({ language: 'es', replyLanguage: 'en' });
  });

  it('an ambiguous sentence does not flip the prior', () => {
    // franc ranks these fra 1.0 / spa 0.83 and spa 1.0 / fra 0.79: too close to trust.
    expect(decideLanguage({ text: 'i want my money back please', prior: 'en', supported })).toMatchObject({ language: 'en', source: 'prior' });
    expect(decideLanguage({ text: 'can I talk to a real person', prior: 'en', supported })).toMatchObject({ language: 'en' });
  });
});
