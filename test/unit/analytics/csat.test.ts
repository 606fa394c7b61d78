import { CSAT_METHOD, isFallbackReply, scoreCsat } from '../../../src/analytics/csat';
import type { SummaryTurn } from '../../../src/analytics/transcript';

/** Builds alternating turns 4 s apart from [role, text] pairs. */
function call(lines: Array<['caller' | 'agent', string]>, language: string | null = 'en'): SummaryTurn[] {
  return lines.map(([role, text], i) => ({ role, text, language, startMs: i * 4_000, endMs: i * 4_000 + 3_000 }));
}

const HAPPY = call([
  ['agent', 'Hello, thanks for calling Acme. How can I help?'],
  ['caller', 'Hi, what are your opening hours on Saturday?'],
  ['agent', 'We are open from nine to five on Saturdays.'],
  ['caller', 'Great, and can I bring my dog into the store?'],
  ['agent', 'Yes, well-behaved dogs are welcome in all our stores.'],
  ['caller', 'Perfect, that is really helpful. Thank you so much, goodbye!'],
]);

const ANGRY = call([
  ['agent', 'Hello, thanks for calling Acme. How can I help?'],
  ['caller', 'My order never arrived and this is the third time I am calling. This is terrible.'],
  ['agent', "I'm sorry, I didn't catch that. Could you repeat it?"],
  ['caller', 'Are you kidding me? This is useless, I hate this stupid system.'],
  ['agent', "Sorry, I don't have that information."],
  ['caller', 'Let me talk to a human right now, this is awful.'],
]);

describe('scoreCsat', () => {
  it('scores a polite, resolved call high', () => {
    const r = scoreCsat({ turns: HAPPY });
    expect(r.method).toBe(CSAT_METHOD);
    expect(r.score).toBeGreaterThanOrEqual(4);
    expect(r.details.sentiment).toBeGreaterThan(0);
    expect(r.details.closingCourtesy).toBe(true);
    expect(r.details.fallbackReplies).toBe(0);
    expect(r.details.agentAnswers).toBe(2); // the greeting is not an answer
    expect(r.details.handoffRequested).toBe(false);
  });

  it('scores an angry call with repeated fallbacks and a handoff request low', () => {
    const r = scoreCsat({ turns: ANGRY });
    expect(r.score).toBeLessThanOrEqual(2);
    expect(r.details.sentiment).toBeLessThan(0);
    expect(r.details.fallbackReplies).toBe(2);
    expect(r.details.maxConsecutiveFallbacks).toBe(2);
    expect(r.details.handoffRequested).toBe(true);
    expect(r.details.components.repeatedFallbacks).toBeLessThan(0);
    expect(r.score).toBeLessThan(scoreCsat({ turns: HAPPY }).score);
  });

  it('keeps the score an integer in 1..5 and equal to the rounded sum of its components', () => {
    for (const turns of [HAPPY, ANGRY, [], call([['caller', 'hello?']])]) {
      const r = scoreCsat({ turns });
      expect(Number.isInteger(r.score)).toBe(true);
      expect(r.score).toBeGreaterThanOrEqual(1);
      expect(r.score).toBeLessThanOrEqual(5);
      const sum = Object.values(r.details.components).reduce((a, b) => a + b, 0);
      expect(r.details.raw).toBeCloseTo(sum, 5);
      expect(r.score).toBe(Math.min(5, Math.max(1, Math.round(r.details.raw))));
    }
  });

  it('counts a handoff/transfer call event as a handoff request', () => {
    const plain = scoreCsat({ turns: HAPPY });
    const withEvent = scoreCsat({ turns: HAPPY, eventTypes: ['twilio.status', 'call.transfer'] });
    expect(plain.details.handoffRequested).toBe(false);
    expect(withEvent.details.handoffRequested).toBe(true);
    expect(withEvent.details.raw).toBeLessThan(plain.details.raw);
  });

  it('applies call-length terms from durationMs', () => {
    expect(scoreCsat({ turns: HAPPY, durationMs: 5_000 }).details.components.callLength).toBe(-0.5);
    expect(scoreCsat({ turns: HAPPY, durationMs: 60_000 }).details.components.callLength).toBe(0);
    expect(scoreCsat({ turns: HAPPY, durationMs: 11 * 60_000 }).details.components.callLength).toBe(-0.25);
  });

  it('does not run English AFINN on non-English caller turns', () => {
    const es = call([
      ['agent', 'Hola, ¿en qué puedo ayudarle?'],
      ['caller', 'Quiero saber el horario, gracias'],
    ], 'es');
    const r = scoreCsat({ turns: es });
    expect(r.details.sentimentTurns).toBe(0);
    expect(r.details.sentiment).toBe(0);
    expect(r.details.closingCourtesy).toBe(true);
  });

  it('rejects input without a turns array', () => {
    expect(() => scoreCsat({} as never)).toThrow(/turns must be an array/);
  });
});

describe('isFallbackReply', () => {
  it.each([
    ["I'm sorry, I didn't catch that.", true],
    ['Could you please repeat that?', true],
    ["I don't have that information right now.", true],
    ['Perdón, no entendí. ¿Puede repetir?', true],
    ["Désolé, je n'ai pas compris.", true],
    ['We are open from nine to five.', false],
    ['Sorry for the wait, your refund was issued yesterday.', false],
  ] as Array<[string, boolean]>)('%s → %s', (text, expected) => {
    expect(isFallbackReply({ text, intent: null })).toBe(expected);
  });

  it('treats an agent turn tagged intent=fallback as a fallback', () => {
    expect(isFallbackReply({ text: 'Anything else?', intent: 'fallback' })).toBe(true);
    // What the engine actually stores: the responder's `unknown` intent on the agent turn, whatever the wording.
    expect(isFallbackReply({ text: 'Could you tell me a bit more about that?', intent: 'unknown' })).toBe(true);
    expect(isFallbackReply({ text: 'We are open nine to five.', intent: 'hours' })).toBe(false);
  });
});
