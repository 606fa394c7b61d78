import { bodyOf, changedFields, emptyForm, formOf, type Agent } from '../../../web/src/pages/agents/agent-form';

/** The agent editor's CSAT survey fields: the default language's prompt is edited, the other languages' kept. */
describe('agent form: CSAT survey', () => {
  const stored = {
    id: 'a', name: 'A', systemPrompt: 'x', firstMessage: 'Hi', firstMessages: {}, defaultLanguage: 'en', languages: ['en', 'es'], voices: {}, ttsVoices: {}, intents: [],
    providers: {}, llm: {}, dtmfMenu: {}, handoffNumber: null, tools: [], endpointing: {}, maxCallDurationMs: null, voicemailMessage: null, optOutPhrases: [], recordCalls: true,
    recordingNotice: { enabled: false, text: {} }, vocabulary: [], isDefault: false, archivedAt: null,
    csatSurvey: { enabled: true, prompt: { en: 'Rate us 1 to 5.', es: 'Califíquenos del 1 al 5.' }, timeoutMs: 6000 },
  } as unknown as Agent;

  const body = (f: ReturnType<typeof formOf>) => {
    const r = bodyOf(f);
    if (!('body' in r)) throw new Error('json errors');
    return r.body;
  };

  it('a stored survey round-trips unchanged (no PATCH field); editing the prompt keeps the other languages', () => {
    const f = formOf(stored);
    expect(f.csatSurvey).toEqual({ enabled: true, prompt: 'Rate us 1 to 5.', otherPrompts: { es: 'Califíquenos del 1 al 5.' }, timeoutMs: 6000 });
    const prev = body(f);
    expect(prev.csatSurvey).toEqual(stored.csatSurvey);
    const edited = body({ ...f, csatSurvey: { ...f.csatSurvey, prompt: '  How did we do? Press 1 to 5.  ', timeoutMs: '' } });
    expect(changedFields(prev, edited)).toEqual({ csatSurvey: { enabled: true, prompt: { es: 'Califíquenos del 1 al 5.', en: 'How did we do? Press 1 to 5.' } } });
  });

  it('a new agent sends the survey off; an empty prompt sends no prompt (the built-in line is used)', () => {
    expect(body({ ...emptyForm(), name: 'n', systemPrompt: 's', firstMessage: 'f' }).csatSurvey).toEqual({ enabled: false });
    expect(body({ ...emptyForm(), csatSurvey: { enabled: true, prompt: ' ', otherPrompts: {}, timeoutMs: 9000 } }).csatSurvey).toEqual({ enabled: true, timeoutMs: 9000 });
  });
});
