import { DateTime } from 'luxon';
import { machinePhraseIn } from '../../../src/engine/machine-detection';
import { normalizePhrase, optOutPhraseIn } from '../../../src/domain/call-phrases';
import { describeCallbackTime, parseCallbackTime, readCallbackTime } from '../../../src/domain/callback-time';

describe('transcript machine detection (voicemail greetings, call screeners; en/es/fr/de)', () => {
  const machines: Array<[string, string]> = [
    ['en', "Hi, you've reached Sam. Please leave a message after the tone."],
    ['en', 'The person you are calling is not available.'],
    ['en', 'The number you have dialed is not in service.'],
    ['en', 'Please record your message. When you have finished recording, hang up.'],
    ['en', "Hi, the person you're calling is using a screening service from Google and will get a copy of this conversation."],
    ['en', 'Your call has been forwarded to an automatic voice message system.'],
    ['es', 'Hola, no estoy disponible. Deje su mensaje después del tono.'],
    ['es', 'Ha llamado al buzón de voz de Ana.'],
    ['fr', "Bonjour, vous êtes bien chez Paul, laissez un message après le bip."],
    ['fr', "Votre correspondant n'est pas disponible pour le moment."],
    ['de', 'Hallo, hier ist die Mailbox von Jan. Hinterlassen Sie eine Nachricht nach dem Signalton.'],
    ['de', 'Der gewünschte Gesprächspartner ist zurzeit nicht erreichbar.'],
  ];
  it.each(machines)('%s: "%s" is a machine', (_lang, text) => {
    expect(machinePhraseIn(text)).not.toBeNull();
  });

  const humans = ['Hello?', 'Hi, this is Sam speaking.', 'Yes, who is this?', '¿Diga?', 'Allô, oui ?', 'Ja, hallo, wer ist da?', 'Sorry, I missed your voicemail yesterday, what was it about?'];
  it.each(humans)('"%s" is not a machine', (text) => {
    expect(machinePhraseIn(text)).toBeNull();
  });
});

describe('opt-out phrases', () => {
  it.each([
    'Please stop calling me.',
    "Take me off your list, I'm not interested",
    'Remove me from your list!',
    'Do not call me again.',
    'No me llamen más, por favor.',
    "Ne m'appelez plus !",
    'Rufen Sie mich nicht mehr an.',
  ])('"%s" opts out', (text) => expect(optOutPhraseIn(text)).not.toBeNull());

  it.each(['Call me back tomorrow.', 'Stop, wait, what was that?', "I'd like to take out a loan", 'Sure, I can talk now.'])('"%s" does not', (text) =>
    expect(optOutPhraseIn(text)).toBeNull(),
  );

  it("adds the agent's own phrases, matched on word boundaries without case or accents", () => {
    expect(optOutPhraseIn('Unsubscribe me please', ['unsubscribe me'])).toBe('unsubscribe me');
    expect(optOutPhraseIn('unsubscribe merchants', ['unsubscribe me'])).toBeNull();
    expect(normalizePhrase("  Ne M'APPELEZ   plus!! ")).toBe('ne mappelez plus');
  });
});

describe('callback times (chrono-node, in the contact zone)', () => {
  // Wednesday 2026-12-02 09:00 in New York (UTC-5).
  const now = new Date('2026-12-02T14:00:00Z');
  const zone = 'America/New_York';
  it.each<[string, string, string]>([
    ['call me back tomorrow at three', 'en', '2026-12-03T20:00:00.000Z'],
    ['tomorrow at 10', 'en', '2026-12-03T15:00:00.000Z'],
    ['next monday at 10am', 'en', '2026-12-07T15:00:00.000Z'],
    ['llámeme mañana a las tres', 'es', '2026-12-03T20:00:00.000Z'],
    ['rappelez-moi demain à 15h', 'fr', '2026-12-03T20:00:00.000Z'],
    ['rufen Sie mich morgen um drei an', 'de', '2026-12-03T20:00:00.000Z'],
  ])('"%s" (%s) → %s', (text, language, iso) => {
    expect(parseCallbackTime(text, { now, timeZone: zone, language })?.toISOString()).toBe(iso);
  });

  it.each<[string, string, string]>([
    ['call me back tomorrow morning', 'en', '2026-12-03T14:00:00.000Z'],
    ['Good morning! Call me back tomorrow afternoon', 'en', '2026-12-03T20:00:00.000Z'],
    ['llámeme mañana por la tarde', 'es', '2026-12-03T20:00:00.000Z'],
    ['rappelez-moi demain après-midi', 'fr', '2026-12-03T20:00:00.000Z'],
    ['rappelez-moi demain soir', 'fr', '2026-12-03T23:00:00.000Z'],
    ['rufen Sie mich morgen Nachmittag an', 'de', '2026-12-03T20:00:00.000Z'],
  ])('a part of the day is a time of day: "%s" (%s) → %s (morning 09:00, afternoon 15:00, evening 18:00)', (text, language, iso) => {
    expect(readCallbackTime(text, { now, timeZone: zone, language })).toEqual({ at: new Date(iso), timeOfDay: true });
  });

  it.each<[string, string]>([
    ['call me back on Saturday', 'en'],
    ['Good evening, call me back tomorrow', 'en'],
    ['Guten Abend, rufen Sie mich morgen an', 'de'],
    ['llámeme el sábado', 'es'],
  ])('a day alone ("%s", %s) has no time of day: the agent asks for one', (text, language) => {
    expect(readCallbackTime(text, { now, timeZone: zone, language })?.timeOfDay).toBe(false);
  });

  it('reads the same words in the contact zone, not the server zone', () => {
    expect(parseCallbackTime('tomorrow at 3 pm', { now, timeZone: 'Europe/Berlin' })?.toISOString()).toBe('2026-12-03T14:00:00.000Z');
  });

  // 2027-03-14 02:00 EST → 03:00 EDT (spring forward); 2026-11-01 02:00 EDT → 01:00 EST (fall back).
  it.each([
    ['spring forward', '2027-03-13T17:00:00Z', '2027-03-14T19:00:00.000Z'],
    ['fall back', '2026-10-31T17:00:00Z', '2026-11-01T20:00:00.000Z'],
  ])('a callback booked the day before a DST change (%s) lands at 15:00 local after it', (_change, before, iso) => {
    const ny = 'America/New_York';
    for (const said of ['tomorrow at 3 pm', 'call me back tomorrow at three']) {
      const at = parseCallbackTime(said, { now: new Date(before), timeZone: ny })!;
      expect([said, at.toISOString()]).toEqual([said, iso]);
      expect(DateTime.fromJSDate(at, { zone: ny }).toFormat('HH:mm')).toBe('15:00');
    }
  });

  it('reads the offline STT\'s audiobook spelling "to-morrow" as tomorrow', () => {
    const now = new Date('2026-12-02T16:36:00Z'); // 10:36 in Chicago: "at three" today would still be ahead
    expect(parseCallbackTime('Please call me back to-morrow at three in the afternoon.', { now, timeZone: 'America/Chicago' })?.toISOString()).toBe('2026-12-03T21:00:00.000Z');
  });

  it('keeps an offset the callee says', () => {
    expect(parseCallbackTime('tomorrow at 3 pm UTC', { now: new Date('2026-10-31T17:00:00Z'), timeZone: 'America/New_York' })?.toISOString()).toBe('2026-11-01T15:00:00.000Z');
  });

  it('returns null without a time, or for an unknown zone', () => {
    expect(parseCallbackTime('no thanks', { now, timeZone: zone })).toBeNull();
    expect(parseCallbackTime('tomorrow at 3', { now, timeZone: 'Not/AZone' })).toBeNull();
  });

  it('describes the time in the contact zone and language', () => {
    expect(describeCallbackTime(new Date('2026-12-03T20:00:00Z'), zone, 'en')).toBe('Thursday, December 3 at 3:00 PM');
  });
});
