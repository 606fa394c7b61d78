import { analyzeCall, analyzeLocally, LOCAL_ANALYSIS_METHOD } from '../../../src/analytics/call-analysis';
import { localSummary, spokenTransferSummary } from '../../../src/analytics/call-summary';
import { conversationOutcome, factualDisposition } from '../../../src/analytics/disposition-rules';
import { extractFieldsLocally } from '../../../src/analytics/field-extractor';
import type { CallFacts, LlmCallAnalyzer } from '../../../src/domain/call-analysis';
import { extractionSchemaSchema, validateExtractedFields, type ExtractionSchema } from '../../../src/domain/extraction-schema';

type Turn = CallFacts['turns'][number];
const caller = (text: string): Turn => ({ role: 'caller', text });
const agent = (text: string): Turn => ({ role: 'agent', text });

const START = new Date('2026-12-03T14:00:00Z'); // a Thursday

const ORDER_CALL: Turn[] = [
  agent('Hi, this is Acme support. How can I help?'),
  caller('Hi.'),
  caller("I'm calling about my order, the number is A-48213, it hasn't arrived."),
  agent('Thanks. Order A-48213 shipped yesterday and arrives on Monday.'),
  caller('Great, thank you so much. Bye!'),
];

const SCHEMA: ExtractionSchema = {
  type: 'object',
  properties: {
    orderNumber: { type: 'string', description: "The caller's order number" },
    appointmentTime: { type: 'string', format: 'date-time' },
    email: { type: 'string', format: 'email' },
    plan: { type: 'string', enum: ['basic', 'premium'] },
    tickets: { type: 'integer' },
    newsletter: { type: 'boolean' },
  },
};

const facts = (over: Partial<CallFacts> = {}): CallFacts => ({
  callSid: 'CAunit',
  status: 'completed',
  direction: 'inbound',
  startedAt: START,
  turns: ORDER_CALL,
  events: [],
  transfer: null,
  answeredBy: null,
  schema: SCHEMA,
  ...over,
});

describe('factualDisposition (recorded facts only)', () => {
  it.each([
    ['no-answer', 'no_answer'],
    ['busy', 'busy'],
    ['failed', 'failed'],
    ['canceled', 'failed'],
  ])('Twilio status %s → %s, whatever the transcript says', (status, want) => {
    expect(factualDisposition(facts({ status }))).toBe(want);
  });

  it('a voicemail event or a machine AMD answer → voicemail', () => {
    expect(factualDisposition(facts({ events: [{ type: 'voicemail', payload: { played: true } }] }))).toBe('voicemail');
    expect(factualDisposition(facts({ answeredBy: 'machine_end_beep' }))).toBe('voicemail');
    expect(factualDisposition(facts({ answeredBy: 'human' }))).toBeNull();
  });

  it('opt-out, transfer and callback events; opt-out wins over a transfer', () => {
    expect(factualDisposition(facts({ events: [{ type: 'opt_out', payload: {} }, { type: 'transfer', payload: {} }] }))).toBe('opted_out');
    expect(factualDisposition(facts({ transfer: { target: '+14155550100', reason: 'caller_request', summary: 's' } }))).toBe('transferred');
    expect(factualDisposition(facts({ events: [{ type: 'transfer', payload: { target: '+1', reason: 'dtmf' } }] }))).toBe('transferred');
    expect(factualDisposition(facts({ events: [{ type: 'callback', payload: { at: '2026-12-04T15:00:00Z', booked: true } }] }))).toBe('callback_booked');
  });

  it('a callback asked for but not booked (booked: false) is no booking: the conversation decides', () => {
    expect(factualDisposition(facts({ events: [{ type: 'callback', payload: { at: '2026-12-04T15:00:00Z', said: 'tomorrow', booked: false } }] }))).toBeNull();
    expect(analyzeLocally(facts({ events: [{ type: 'callback', payload: { at: '2026-12-04T15:00:00Z', booked: false } }] })).disposition).toBe('resolved');
  });

  it('precedence: a machine answer beats an opt-out; an opt-out beats a transfer; a transfer beats a booked callback', () => {
    const optOut = { type: 'opt_out', payload: {} };
    const booked = { type: 'callback', payload: { at: '2026-12-04T15:00:00Z', booked: true } };
    expect(factualDisposition(facts({ events: [{ type: 'voicemail', payload: { played: true } }, optOut] }))).toBe('voicemail');
    expect(factualDisposition(facts({ answeredBy: 'machine_start', events: [optOut] }))).toBe('voicemail');
    expect(factualDisposition(facts({ events: [booked, optOut] }))).toBe('opted_out');
    expect(factualDisposition(facts({ events: [booked], transfer: { target: '+14155550100', reason: 'dtmf', summary: 's' } }))).toBe('transferred');
  });

  it('a caller who never said a word → abandoned; a conversation → null (decided from the transcript)', () => {
    expect(factualDisposition(facts({ turns: [agent('Hello, how can I help?'), caller('  ')] }))).toBe('abandoned');
    expect(factualDisposition(facts())).toBeNull();
  });
});

describe('conversationOutcome (offline cues)', () => {
  it('a thanked answer is resolved', () => {
    expect(conversationOutcome(ORDER_CALL)).toBe('resolved');
  });
  it('a caller asking for a person or dissatisfied is unresolved', () => {
    expect(conversationOutcome([agent('How can I help?'), caller('My invoice is wrong.'), agent("I'm not sure about that."), caller('This is useless, let me speak to a human.')])).toBe('unresolved');
  });
  it('an agent that could not answer the last question is unresolved', () => {
    expect(conversationOutcome([agent('How can I help?'), caller('Do you ship to Mars?'), agent("I'm sorry, I don't know.")])).toBe('unresolved');
  });
  it('a wrong number', () => {
    expect(conversationOutcome([agent('Hi, is this Dana?'), caller("No, you've got the wrong number.")])).toBe('wrong_number');
  });
  it('a caller question left without an agent answer is unresolved', () => {
    expect(conversationOutcome([agent('How can I help?'), caller('Where is my parcel?')])).toBe('unresolved');
  });
});

describe('summaries', () => {
  it('localSummary: the main request (not the small talk), the agent outcome and the disposition', () => {
    const s = localSummary(ORDER_CALL, 'resolved');
    expect(s).toBe('Caller: "I\'m calling about my order, the number is A-48213, it hasn\'t arrived." Agent: "Thanks. Order A-48213 shipped yesterday and arrives on Monday." The request was handled.');
  });
  it('localSummary without a conversation is the outcome sentence', () => {
    expect(localSummary([], 'no_answer')).toBe('Nobody answered.');
  });
  it('spokenTransferSummary: request, last words and reason, speakable and bounded', () => {
    const s = spokenTransferSummary([...ORDER_CALL.slice(0, 4), caller('I want to talk to a <person> now.')], 'caller_request');
    expect(s).toBe("Transferred call. The caller asked: I'm calling about my order, the number is A-48213, it hasn't arrived. Last words: I want to talk to a person now. Reason: caller request.");
    const long = spokenTransferSummary([caller('word '.repeat(400))], 'dtmf');
    expect(long.length).toBeLessThanOrEqual(300);
    expect(spokenTransferSummary([], 'dtmf')).toBe('Transferred call. Reason: dtmf. The caller has not said anything yet.');
  });
});

describe('extractFieldsLocally', () => {
  it('reads an order id, a relative date-time, an email, an enum, a count and a boolean from caller words', () => {
    const turns: Turn[] = [
      agent('How can I help?'),
      caller('My order number is ORD-77812 and I want to move my appointment to tomorrow at 3 pm.'),
      agent('Sure. Which plan are you on, and how many tickets?'),
      caller("The premium plan, I need 3 tickets. My email is dana.lee@example.com. And I don't want the newsletter."),
    ];
    const f = extractFieldsLocally(SCHEMA, turns, START);
    expect(f).toEqual({
      orderNumber: 'ORD-77812',
      appointmentTime: new Date(2026, 11, 4, 15, 0, 0).toISOString(),
      email: 'dana.lee@example.com',
      plan: 'premium',
      tickets: 3,
      newsletter: false,
    });
  });

  it('joins spoken digits into an id and leaves out what was not said', () => {
    const f = extractFieldsLocally(SCHEMA, [caller('my order is four four one two nine, thanks')], START);
    expect(f).toEqual({ orderNumber: '44129' });
  });

  it('falls back to the agent read-back when the caller did not say it', () => {
    const f = extractFieldsLocally({ type: 'object', properties: { orderNumber: { type: 'string' } } }, [caller('where is my stuff'), agent('I found order B-99120 for you.')], START);
    expect(f).toEqual({ orderNumber: 'B-99120' });
  });
});

describe('extraction schema validation', () => {
  it('accepts simple flat properties and rejects nested, unknown types and misplaced formats with a message', () => {
    expect(extractionSchemaSchema.safeParse(SCHEMA).success).toBe(true);
    const nested = extractionSchemaSchema.safeParse({ type: 'object', properties: { a: { type: 'object', properties: {} } } });
    expect(nested.success).toBe(false);
    expect(nested.error!.issues[0].message).toMatch(/type must be one of 'string', 'number', 'integer', 'boolean'/);
    const fmt = extractionSchemaSchema.safeParse({ type: 'object', properties: { n: { type: 'number', format: 'email' } } });
    expect(fmt.error!.issues[0].message).toBe('format is only allowed on string properties');
    expect(extractionSchemaSchema.safeParse({ type: 'object', properties: {} }).error!.issues[0].message).toBe('properties must list at least one field');
  });
  it('validateExtractedFields drops wrong types, bad formats, unknown names and values outside the enum', () => {
    const r = validateExtractedFields(SCHEMA, { orderNumber: 'A-1', appointmentTime: 'next week', email: 'nope', plan: 'gold', tickets: 2.5, newsletter: true, other: 'x', missing: null });
    expect(r.fields).toEqual({ orderNumber: 'A-1', newsletter: true });
    expect(r.dropped.sort()).toEqual(['appointmentTime', 'email', 'other', 'plan', 'tickets']);
  });
});

describe('analyzeCall', () => {
  const llm = (impl: LlmCallAnalyzer['analyze']): LlmCallAnalyzer => ({ method: 'llm:test-model', analyze: impl });

  it('offline: local analysis with method local:v1', async () => {
    const a = await analyzeCall(facts());
    expect(a).toEqual({ ...analyzeLocally(facts()), method: LOCAL_ANALYSIS_METHOD });
    expect(a.disposition).toBe('resolved');
    expect(a.fields).toEqual({ orderNumber: 'A-48213' });
  });

  it('the LLM writes summary and fields (validated) and decides resolved/unresolved only for a conversation', async () => {
    const a = await analyzeCall(facts(), { llm: llm(async () => ({ summary: 'Order question answered.', outcome: 'unresolved', fields: { orderNumber: 'A-48213', email: 'not-an-email' } })) });
    expect(a).toEqual({ summary: 'Order question answered.', disposition: 'unresolved', fields: { orderNumber: 'A-48213' }, method: 'llm:test-model' });
  });

  it('the LLM never overrides a recorded fact', async () => {
    const a = await analyzeCall(facts({ transfer: { target: '+14155550100', reason: 'dtmf', summary: 's' } }), { llm: llm(async () => ({ summary: 'Handled.', outcome: 'resolved', fields: {} })) });
    expect(a.disposition).toBe('transferred');
    expect(a.method).toBe('llm:test-model');
  });

  it('no conversation (no answer): the LLM is not asked', async () => {
    const analyze = jest.fn();
    const a = await analyzeCall(facts({ status: 'no-answer', turns: [] }), { llm: llm(analyze) });
    expect(analyze).not.toHaveBeenCalled();
    expect(a).toMatchObject({ disposition: 'no_answer', method: LOCAL_ANALYSIS_METHOD });
  });

  it('falls back to the local analysis when the LLM throws or hangs past the timeout', async () => {
    const failed = await analyzeCall(facts(), { llm: llm(async () => Promise.reject(new Error('HTTP 500'))) });
    expect(failed).toMatchObject({ method: LOCAL_ANALYSIS_METHOD, disposition: 'resolved', fallbackReason: 'HTTP 500' });
    const hung = await analyzeCall(facts(), { llm: llm(() => new Promise(() => undefined)), timeoutMs: 30 });
    expect(hung).toMatchObject({ method: LOCAL_ANALYSIS_METHOD, fallbackReason: 'timeout' });
  });

  it("rethrows when the caller's own signal fires (a cancelled job is retried, not stored as a fallback)", async () => {
    const ac = new AbortController();
    const p = analyzeCall(facts(), { llm: llm(() => new Promise(() => undefined)), signal: ac.signal });
    ac.abort(new Error('worker closing'));
    await expect(p).rejects.toThrow('worker closing');
  });
});
