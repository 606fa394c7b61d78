import { bodyOf, emptyForm, formOf, parseExtractionSchemaText, type Agent } from '../../../web/src/pages/agents/agent-form';

/** The agent editor's extraction-schema textarea: checked before sending, sent as parsed JSON, shown pretty. */
describe('agent editor: extracted fields (JSON schema)', () => {
  const schema = { type: 'object', properties: { orderNumber: { type: 'string' }, appointmentTime: { type: 'string', format: 'date-time' } } };

  it('empty means none (null is sent, clearing a stored schema)', () => {
    expect(parseExtractionSchemaText('  ')).toEqual({ schema: null });
    const r = bodyOf(emptyForm());
    expect('body' in r && r.body.extractionSchema).toBeNull();
  });

  it('a valid schema is sent parsed', () => {
    const r = bodyOf({ ...emptyForm(), name: 'A', extractionSchema: JSON.stringify(schema) });
    expect('body' in r && r.body.extractionSchema).toEqual(schema);
  });

  it('explains what is wrong, one message per problem, and sends nothing', () => {
    expect(parseExtractionSchemaText('{ "type": ')).toEqual({ problems: [expect.stringMatching(/^not valid JSON: /)] });
    expect(parseExtractionSchemaText('[]')).toEqual({ problems: ['must be a JSON object'] });
    expect(parseExtractionSchemaText('{"type":"array","properties":{}}')).toEqual({ problems: ['"type" must be "object"', '"properties" must list at least one field'] });
    expect(parseExtractionSchemaText('{"type":"object","properties":{"a":{"type":"object"},"n":{"type":"number","format":"email"},"1x":{"type":"string"}}}')).toEqual({
      problems: [
        '"a": type must be one of string, number, integer, boolean',
        '"n": format must be one of date-time, date, time, email, phone (strings only)',
        '"1x": names are letters, digits or _ and do not start with a digit',
      ],
    });
    const r = bodyOf({ ...emptyForm(), extractionSchema: '{"type":"object"}' });
    expect(r).toEqual({ jsonErrors: { extractionSchema: '"properties" must list at least one field' } });
  });

  it('a stored schema is shown pretty-printed, none as empty', () => {
    const agent = { ...formBase(), extractionSchema: schema } as unknown as Agent;
    expect(formOf(agent).extractionSchema).toBe(JSON.stringify(schema, null, 2));
    expect(formOf({ ...agent, extractionSchema: null }).extractionSchema).toBe('');
  });
});

function formBase() {
  return { id: 'a', name: 'A', systemPrompt: 's', firstMessage: 'f', languages: ['en'], defaultLanguage: 'en', intents: [], handoffNumber: null, maxCallDurationMs: null, voicemailMessage: null, optOutPhrases: [], vocabulary: [], isDefault: false, providers: {}, llm: {}, endpointing: {}, firstMessages: {}, voices: {}, ttsVoices: {}, dtmfMenu: {}, tools: [] };
}
