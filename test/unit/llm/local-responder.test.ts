import { LocalResponder } from '../../../src/providers/llm/local-responder';
import type { ChatRequest, LlmDelta, Passage } from '../../../src/providers/types';

const INTENTS = ['hours', 'order_status', 'refund', 'human_handoff', 'goodbye'];

const PASSAGES: Record<string, Passage> = {
  hours: {
    documentId: 'd-hours',
    title: 'Opening hours',
    text: 'Our support line is open Monday to Friday from 8 am to 8 pm, and on Saturday from 9 am to 5 pm. We are closed on Sundays. Our website was redesigned last year.',
    score: 0.3,
  },
  refund: {
    documentId: 'd-refund',
    title: 'Refunds',
    text: 'We like happy customers. You can return most items within 30 days of delivery for a full refund. Refunds reach your card within 5 to 7 business days.',
    score: 0.3,
  },
};

function request(utterance: string, passages: Passage[] = [], over: Partial<ChatRequest> = {}): ChatRequest {
  return { system: 'You are Acme support.', messages: [{ role: 'assistant', content: 'Hello, how can I help?' }, { role: 'user', content: utterance }], passages, language: 'en', intents: INTENTS, ...over };
}

async function run(r: LocalResponder, req: ChatRequest, signal = new AbortController().signal): Promise<{ deltas: LlmDelta[]; intent: string; text: string }> {
  const deltas: LlmDelta[] = [];
  for await (const d of r.chat(req, signal)) deltas.push(d);
  const first = deltas[0];
  return { deltas, intent: first.type === 'intent' ? first.intent : 'none', text: deltas.map((d) => (d.type === 'text' ? d.text : '')).join('') };
}

describe('LocalResponder intent classification', () => {
  const r = new LocalResponder();

  it.each([
    ['when are you open', 'hours'],
    ['What time do you close on Saturday?', 'hours'],
    ['where is my order', 'order_status'],
    ['My package has not arrived yet', 'order_status'],
    ['I want my money back', 'refund'],
    ['how do I return something', 'refund'],
    ['Can I speak to a real person please?', 'human_handoff'],
    ['representative', 'human_handoff'],
    ['thank you, goodbye', 'goodbye'],
    ["no that's all, have a nice day", 'goodbye'],
  ])('clean: %p → %s', (text, intent) => {
    expect(r.classify(text, INTENTS).intent).toBe(intent);
  });

  // Real output of pocketsphinx (en-us model; the offline STT before Moonshine) for espeak-ng renderings of the phrase in the comment, plus
  // typical recognition errors (split words, dropped letters, wrong inflections).
  it.each([
    ['where are you open', 'hours'], // "when are you open" (pocketsphinx)
    ["we're really order", 'order_status'], // "where is my order" (pocketsphinx)
    ['got my order to', 'order_status'], // "has my order shipped" (pocketsphinx)
    ['i would like a refund', 'refund'], // "i would like a refund" (pocketsphinx, verbatim)
    ['i want a re fund', 'refund'],
    ['can i talk to a per son', 'human_handoff'],
    ['what tim do you clothes on saturday', 'hours'],
    ['uh where is my packages it has not arrive', 'order_status'],
    ['i need to speak with an operater', 'human_handoff'],
    ['ok thanks bye bye', 'goodbye'],
  ])('garbled: %p → %s', (text, intent) => {
    expect(r.classify(text, INTENTS).intent).toBe(intent);
  });

  it.each([["he was not an old god i'm on"], ['the the of a'], ['banana helicopter']])('noise: %p → unknown', (text) => {
    const c = r.classify(text, INTENTS);
    expect(c.intent).toBe('unknown');
  });

  it('only picks among the agent’s intents and matches an unlisted intent by its own name', () => {
    expect(r.classify('I want my money back', ['hours', 'goodbye']).intent).toBe('unknown');
    expect(r.classify('I have a billing question', ['billing_question', 'hours']).intent).toBe('billing_question');
  });

  it('reports higher confidence for clean than for garbled text', () => {
    const clean = r.classify('I would like a refund please', INTENTS);
    const garbled = r.classify('i want a re fund', INTENTS);
    expect(clean.confidence).toBeGreaterThan(0.45);
    expect(clean.confidence).toBeGreaterThanOrEqual(garbled.confidence);
  });
});

describe('LocalResponder.chat', () => {
  const r = new LocalResponder();

  it('emits the intent first, then word-sized text deltas answering from the relevant passage', async () => {
    const out = await run(r, request('Are you open on Saturday?', [PASSAGES.refund, PASSAGES.hours]));
    expect(out.deltas[0]).toMatchObject({ type: 'intent', intent: 'hours' });
    const texts = out.deltas.slice(1);
    expect(texts.length).toBeGreaterThan(5);
    for (const d of texts) {
      expect(d.type).toBe('text');
      if (d.type === 'text') expect(d.text.trim().split(/\s+/)).toHaveLength(1);
    }
    expect(out.text).toContain('Saturday from 9 am to 5 pm');
    expect(out.text).not.toContain('redesigned'); // irrelevant sentence left out
    expect(out.text).not.toContain('refund');
  });

  it('picks the sentences that answer the question from the best passage', async () => {
    const out = await run(r, request('I want my money back', [PASSAGES.refund, PASSAGES.hours]));
    expect(out.intent).toBe('refund');
    expect(out.text).toContain('within 30 days');
    expect(out.text).not.toContain('happy customers');
  });

  it('hands off and says goodbye with fixed lines, ignoring passages', async () => {
    const handoff = await run(r, request('let me talk to a human', [PASSAGES.hours]));
    expect(handoff.intent).toBe('human_handoff');
    expect(handoff.text).toMatch(/connect you/i);
    const bye = await run(r, request('thanks, bye', [PASSAGES.hours]));
    expect(bye.intent).toBe('goodbye');
    expect(bye.text).toMatch(/goodbye/i);
  });

  it('falls back politely, listing what it can help with, when nothing matches', async () => {
    const out = await run(r, request("he was not an old god i'm on", [{ ...PASSAGES.hours, score: 0.05 }]));
    expect(out.intent).toBe('unknown');
    expect(out.text).toMatch(/opening hours/);
    expect(out.text).toMatch(/refunds and returns/);
    expect(out.text).not.toContain('Monday');
  });

  it('asks for detail when the intent is known but no passage is relevant', async () => {
    const out = await run(r, request('I would like a refund', []));
    expect(out.intent).toBe('refund');
    expect(out.text).toMatch(/refunds and returns/);
  });

  it('answers an empty utterance by asking to repeat, and uses English for unknown languages', async () => {
    const out = await run(r, request('   ', [], { language: 'xx' }));
    expect(out.intent).toBe('unknown');
    expect(out.text).toMatch(/repeat/);
  });

  it('stops streaming and throws the abort reason when the signal aborts', async () => {
    const ac = new AbortController();
    const got: LlmDelta[] = [];
    const consume = (async () => {
      for await (const d of r.chat(request('Are you open on Saturday?', [PASSAGES.hours]), ac.signal)) {
        got.push(d);
        if (got.length === 3) ac.abort();
      }
    })();
    await expect(consume).rejects.toMatchObject({ name: 'AbortError' });
    expect(got).toHaveLength(3);
    const pre = new AbortController();
    pre.abort();
    await expect(run(r, request('hi'), pre.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('LocalResponder tool calls', () => {
  const r = new LocalResponder();
  const tools = ['transfer_to_human', 'end_call', 'search_knowledge'].map((name) => ({ name, description: name, parameters: { type: 'object' } }));

  it('asks for transfer_to_human after the handoff line when the tool is offered', async () => {
    const { deltas, text } = await run(r, request('Can I speak to a real person please?', [], { tools }));
    expect(text.length).toBeGreaterThan(0);
    expect(deltas.at(-1)).toMatchObject({ type: 'tool_call', name: 'transfer_to_human' });
    expect(JSON.parse((deltas.at(-1) as { arguments: string }).arguments)).toHaveProperty('reason');
  });

  it('ends the call on goodbye, and makes no tool call when tools are not offered', async () => {
    expect((await run(r, request('thank you, goodbye', [], { tools }))).deltas.at(-1)).toMatchObject({ type: 'tool_call', name: 'end_call' });
    expect((await run(r, request('thank you, goodbye'))).deltas.some((d) => d.type === 'tool_call')).toBe(false);
    expect((await run(r, request('when are you open', [], { tools }))).deltas.some((d) => d.type === 'tool_call')).toBe(false);
  });
});

describe('LocalResponder in French and German', () => {
  const r = new LocalResponder();
  it.each([
    ['fr', 'À quelle heure ouvrez-vous le samedi ?', 'hours'],
    ['fr', 'Où est ma commande ?', 'order_status'],
    ['fr', 'Je voudrais un remboursement, s’il vous plaît.', 'refund'],
    ['fr', 'Je veux parler à un conseiller.', 'human_handoff'],
    ['de', 'Wann haben Sie am Samstag geöffnet?', 'hours'],
    ['de', 'Wo ist meine Bestellung?', 'order_status'],
    ['de', 'Ich möchte mein Geld zurück.', 'refund'],
    ['de', 'Kann ich bitte mit einem Mitarbeiter sprechen?', 'human_handoff'],
  ])('%s: %p → %s', (language, text, intent) => {
    expect(r.classify(text, INTENTS, language).intent).toBe(intent);
  });

  it('answers a German caller in German', async () => {
    const { text } = await run(r, request('Kann ich bitte mit einem Mitarbeiter sprechen?', [], { language: 'de' }));
    expect(text).toMatch(/verbinde Sie mit einem Mitarbeiter/);
  });
});
