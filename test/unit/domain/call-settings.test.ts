import { endpointingFor, greetingFor, maxCallDurationFor, recordingNoticeFor } from '../../../src/domain/call-settings';
import { adaptiveEndpointingFor } from '../../../src/engine/speculation';

const SERVER = { silenceMs: 800, completeMs: 400, continuingMs: 1200, minSpeechMs: 250, bargeInMinSpeechMs: 400 };

describe('per-agent call settings (pure choices)', () => {
  describe('greetingFor', () => {
    const agent = { firstMessage: 'Hello, thanks for calling.', firstMessages: { es: 'Hola, gracias por llamar.', fr: 'Bonjour !' } };

    it("uses the greeting of the call's language when the agent has one", () => {
      expect(greetingFor(agent, 'es')).toBe('Hola, gracias por llamar.');
      expect(greetingFor(agent, 'fr')).toBe('Bonjour !');
    });

    it('falls back to firstMessage for a language without one, or an agent without firstMessages', () => {
      expect(greetingFor(agent, 'de')).toBe('Hello, thanks for calling.');
      expect(greetingFor({ firstMessage: 'Hi.' }, 'es')).toBe('Hi.');
      expect(greetingFor({ firstMessage: 'Hi.', firstMessages: {} }, 'en')).toBe('Hi.');
    });

    it('never takes an inherited property or a blank greeting', () => {
      expect(greetingFor({ firstMessage: 'Hi.', firstMessages: {} }, 'constructor')).toBe('Hi.');
      expect(greetingFor({ firstMessage: 'Hi.', firstMessages: { es: '   ' } }, 'es')).toBe('Hi.');
    });
  });

  it("recordingNoticeFor: null when off; else the line of the call's language, the default language's, then the built-in one", () => {
    const builtin = (l: string) => `builtin-${l}`;
    const text = { en: 'This call is recorded.', es: 'Se graba.', fr: '  ' };
    expect(recordingNoticeFor({ defaultLanguage: 'en' }, 'en', builtin)).toBeNull();
    expect(recordingNoticeFor({ defaultLanguage: 'en', recordingNotice: { enabled: false, text } }, 'en', builtin)).toBeNull();
    expect(recordingNoticeFor({ defaultLanguage: 'en', recordingNotice: { enabled: true, text } }, 'es', builtin)).toBe('Se graba.');
    expect(recordingNoticeFor({ defaultLanguage: 'en', recordingNotice: { enabled: true, text } }, 'fr', builtin)).toBe('This call is recorded.');
    expect(recordingNoticeFor({ defaultLanguage: 'de', recordingNotice: { enabled: true, text: {} } }, 'de', builtin)).toBe('builtin-de');
    expect(recordingNoticeFor({ defaultLanguage: 'de', recordingNotice: { enabled: true, text: {} } }, 'constructor', builtin)).toBe('builtin-constructor');
  });

  it("maxCallDurationFor: the agent's limit, else the server's (0 = none stays 0)", () => {
    expect(maxCallDurationFor({ maxCallDurationMs: 60_000 }, 900_000)).toBe(60_000);
    expect(maxCallDurationFor({ maxCallDurationMs: null }, 900_000)).toBe(900_000);
    expect(maxCallDurationFor({}, 0)).toBe(0);
  });

  describe('endpointingFor', () => {
    it("is the server's settings with barge-in on for an agent without overrides", () => {
      expect(endpointingFor({}, SERVER)).toEqual({ ...SERVER, bargeIn: true });
      expect(endpointingFor({ endpointing: {} }, SERVER)).toEqual({ ...SERVER, bargeIn: true });
    });

    it("replaces each overridden field and only those; bargeIn false turns barge-in off", () => {
      expect(endpointingFor({ endpointing: { silenceMs: 1500, bargeInMinSpeechMs: 0 } }, SERVER)).toEqual({ ...SERVER, silenceMs: 1500, bargeInMinSpeechMs: 0, bargeIn: true });
      expect(endpointingFor({ endpointing: { completeMs: 600, continuingMs: 2000, minSpeechMs: 100, bargeIn: false } }, SERVER)).toEqual({
        ...SERVER,
        completeMs: 600,
        continuingMs: 2000,
        minSpeechMs: 100,
        bargeIn: false,
      });
      expect(endpointingFor({ endpointing: { bargeIn: true } }, SERVER).bargeIn).toBe(true);
    });
  });

  describe('adaptiveEndpointingFor', () => {
    const server = { completeMs: 400, defaultMs: 800, continuingMs: 1200 };

    it("stays off when the server has adaptive endpointing off, whatever the agent's overrides", () => {
      expect(adaptiveEndpointingFor({ endpointing: { completeMs: 300 } }, null)).toBeNull();
    });

    it("takes the agent's completeMs / continuingMs, and its silenceMs as the default silence", () => {
      expect(adaptiveEndpointingFor({}, server)).toEqual(server);
      expect(adaptiveEndpointingFor({ endpointing: { silenceMs: 1500, completeMs: 600 } }, server)).toEqual({ completeMs: 600, defaultMs: 1500, continuingMs: 1200 });
      expect(adaptiveEndpointingFor({ endpointing: { continuingMs: 2500 } }, server)).toEqual({ ...server, continuingMs: 2500 });
    });
  });
});
