import { ProviderError } from '../../../src/providers/errors';
import { OpenAiChatLlm } from '../../../src/providers/llm/openai-chat';
import { buildChatMessages } from '../../../src/providers/llm/prompt';
import type { ChatRequest, LlmDelta } from '../../../src/providers/types';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';
import { rejection, deferred } from '../../helpers/async';

let openai: OpenAiDouble;

beforeAll(async () => {
  openai = await startOpenAiDouble();
});
afterAll(() => openai.close());
beforeEach(() => openai.reset());

const llm = (o: { timeoutMs?: number; apiKey?: string } = {}) =>
  new OpenAiChatLlm({ apiKey: o.apiKey ?? openai.apiKey, baseURL: openai.baseURL, timeoutMs: o.timeoutMs ?? 5000, model: 'gpt-4o-mini' });

const request: ChatRequest = {
  system: 'You are the support agent of Acme Bikes.',
  messages: [
    { role: 'user', content: 'Hola' },
    { role: 'assistant', content: '¡Hola! ¿En qué puedo ayudarle?' },
    { role: 'user', content: '¿A qué hora abren mañana?' },
  ],
  passages: [
    { documentId: 'doc-hours', title: 'Opening hours', text: 'We open at 9:00 from Monday to Saturday.', score: 0.91 },
    { documentId: 'doc-returns', title: 'Returns policy', text: 'Returns are accepted within 30 days.', score: 0.42 },
  ],
  language: 'es',
  intents: ['hours', 'returns'],
  tools: [
    { name: 'transfer_to_human', description: 'Transfer the call to a person', parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] } },
    { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object', properties: { orderId: { type: 'string' } } } },
  ],
};

const signal = () => new AbortController().signal;

async function collect(it: AsyncIterable<LlmDelta>): Promise<LlmDelta[]> {
  const out: LlmDelta[] = [];
  for await (const d of it) out.push(d);
  return out;
}



const text = (ds: LlmDelta[]) => ds.flatMap((d) => (d.type === 'text' ? [d.text] : [])).join('');

describe('buildChatMessages', () => {
  it('puts the system prompt, the language instruction and the numbered passages in one system message', () => {
    const msgs = buildChatMessages(request);
    expect(msgs).toHaveLength(4);
    expect(msgs[0].role).toBe('system');
    const sys = msgs[0].content;
    expect(sys.startsWith('You are the support agent of Acme Bikes.')).toBe(true);
    expect(sys).toContain('Reply in Spanish.');
    expect(sys).toContain('[1] Opening hours\nWe open at 9:00 from Monday to Saturday.');
    expect(sys).toContain('[2] Returns policy\nReturns are accepted within 30 days.');
    expect(sys.indexOf('[1]')).toBeLessThan(sys.indexOf('[2]'));
    expect(msgs.slice(1)).toEqual(request.messages);
  });

  it('has no knowledge section without passages', () => {
    const sys = buildChatMessages({ ...request, passages: [], language: 'fr' })[0].content;
    expect(sys).toContain('Reply in French.');
    expect(sys).not.toContain('[1]');
  });
});

describe('OpenAiChatLlm against the OpenAI double', () => {
  it('streams a chat completion: wire request (model, stream, messages, tools) and text deltas', async () => {
    openai.script('chat', { kind: 'chat', content: ['Abrimos', ' a las', ' 9:00.'] });
    const deltas = await collect(llm().chat(request, signal()));
    expect(deltas).toEqual([
      { type: 'text', text: 'Abrimos' },
      { type: 'text', text: ' a las' },
      { type: 'text', text: ' 9:00.' },
      // The final chunk's usage (asked for with stream_options.include_usage): what the call's usage lines count.
      { type: 'usage', promptTokens: 50, completionTokens: 3 },
    ]);

    const req = openai.requests[0];
    expect(req.body.stream_options).toEqual({ include_usage: true });
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.body.model).toBe('gpt-4o-mini');
    expect(req.body.stream).toBe(true);
    expect(req.body.messages).toHaveLength(4);
    expect(req.body.messages[0].role).toBe('system');
    expect(req.body.messages[0].content).toContain('Reply in Spanish.');
    expect(req.body.messages[0].content).toContain('[1] Opening hours');
    expect(req.body.messages[0].content).toContain('We open at 9:00 from Monday to Saturday.');
    expect(req.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Hola' },
      { role: 'assistant', content: '¡Hola! ¿En qué puedo ayudarle?' },
      { role: 'user', content: '¿A qué hora abren mañana?' },
    ]);
    expect(req.body.tools).toEqual(
      request.tools!.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
    );
    expect(req.ended).toBe(true);
  });

  it('sends earlier tool calls and tool results in the wire shape', async () => {
    const req: ChatRequest = {
      ...request,
      tools: undefined,
      messages: [
        { role: 'user', content: 'Where is order 42?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: '{"orderId":"42"}' }] },
        { role: 'tool', toolCallId: 'call_1', content: '{"status":"shipped"}' },
      ],
    };
    await collect(llm().chat(req, signal()));
    const body = openai.requests[0].body;
    expect(body).not.toHaveProperty('tools');
    expect(body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Where is order 42?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"orderId":"42"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"status":"shipped"}' },
    ]);
  });

  it('merges two parallel tool calls by index from fragments spread over chunks', async () => {
    openai.script('chat', {
      kind: 'chat',
      content: ['Un momento.'],
      interleaveToolCalls: true,
      toolCalls: [
        { id: 'call_a', name: 'lookup_order', arguments: ['{"ord', 'erId": ', '"A-17"}'] },
        { id: 'call_b', name: 'transfer_to_human', arguments: ['{"reason"', ': "angry ', 'customer"}'] },
      ],
    });
    const deltas = await collect(llm().chat(request, signal()));
    expect(deltas).toEqual([
      { type: 'text', text: 'Un momento.' },
      { type: 'tool_call', id: 'call_a', name: 'lookup_order', arguments: '{"orderId": "A-17"}' },
      { type: 'tool_call', id: 'call_b', name: 'transfer_to_human', arguments: '{"reason": "angry customer"}' },
      { type: 'usage', promptTokens: 50, completionTokens: 9 },
    ]);
    const calls = deltas.filter((d) => d.type === 'tool_call');
    expect(calls.map((c) => JSON.parse((c as { arguments: string }).arguments))).toEqual([{ orderId: 'A-17' }, { reason: 'angry customer' }]);
    expect(deltas.some((d) => d.type === 'intent')).toBe(false);
  });

  it('yields the first text delta while the rest of the stream is still held by the server', async () => {
    const gate = deferred();
    // Chunk 1 = role, chunk 2 = first content delta; the double holds everything after it until the gate opens.
    openai.script('chat', { kind: 'chat', content: ['First', ' second', ' third.'], hold: { afterChunks: 2, until: gate.promise } });
    const it = llm().chat(request, signal())[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toEqual({ type: 'text', text: 'First' });
    const rec = openai.requests[0];
    expect(rec.chunksSent).toBe(2);
    expect(rec.ended).toBe(false);
    gate.resolve();
    const rest: LlmDelta[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(text(rest)).toBe(' second third.');
    expect(rec.ended).toBe(true);
  });

  it('handles a usage chunk with choices: [] at the end', async () => {
    openai.script('chat', { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, body: [
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] })}\n\n`,
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}\n\n`,
      'data: [DONE]\n\n',
    ].join('') });
    expect(await collect(llm().chat(request, signal()))).toEqual([{ type: 'text', text: 'Hi' }, { type: 'usage', promptTokens: 1, completionTokens: 1 }]);
  });

  it('429 → retryable with status 429; 500 → retryable; 401 → not retryable and the key stays out of the message', async () => {
    openai.script('chat', { kind: 'error', status: 429, retryAfterS: 1 }, { kind: 'error', status: 500 });
    expect(await rejection(collect(llm().chat(request, signal())))).toMatchObject({ name: 'ProviderError', provider: 'openai.chat', retryable: true, status: 429 });
    expect(await rejection(collect(llm().chat(request, signal())))).toMatchObject({ retryable: true, status: 500 });
    const wrongKey = 'sk-not-the-right-key-abcdef123456';
    const e = (await rejection(collect(llm({ apiKey: wrongKey }).chat(request, signal())))) as ProviderError;
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: false, status: 401 });
    expect(e.message).not.toContain(wrongKey);
    expect(e.message).not.toContain('3456');
    expect(openai.requests).toHaveLength(3);
  });

  it('a server that never answers → retryable ProviderError after the timeout', async () => {
    openai.script('chat', { kind: 'hang' });
    const e = await rejection(collect(llm({ timeoutMs: 300 }).chat(request, signal())));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true, status: undefined });
  });

  it('a malformed SSE event → ProviderError (not retryable)', async () => {
    openai.script('chat', { kind: 'malformed' });
    const e = await rejection(collect(llm().chat(request, signal())));
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: false });
  });

  it('a chunk that is not a chat.completion.chunk, or a stream without any choice → ProviderError', async () => {
    openai.script(
      'chat',
      { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, body: 'data: {"id":"x","object":"something.else"}\n\ndata: [DONE]\n\n' },
      { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, body: 'data: [DONE]\n\n' },
    );
    expect(await rejection(collect(llm().chat(request, signal())))).toMatchObject({ name: 'ProviderError', retryable: false, message: expect.stringMatching(/choices/) });
    expect(await rejection(collect(llm().chat(request, signal())))).toMatchObject({ name: 'ProviderError', retryable: false, message: expect.stringMatching(/without any choice/) });
  });

  it('an error event inside the stream → retryable ProviderError', async () => {
    openai.script('chat', {
      kind: 'raw',
      headers: { 'content-type': 'text/event-stream' },
      body: 'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n',
    });
    expect(await rejection(collect(llm().chat(request, signal())))).toMatchObject({ name: 'ProviderError', retryable: true });
  });

  it('a stream cut mid-way → retryable ProviderError after the deltas already received', async () => {
    openai.script('chat', { kind: 'chat', content: ['One', ' two', ' three'], cutAfterChunks: 3 });
    const got: LlmDelta[] = [];
    const e = await rejection((async () => { for await (const d of llm().chat(request, signal())) got.push(d); })());
    expect(text(got)).toBe('One two');
    expect(e).toBeInstanceOf(ProviderError);
    expect(e).toMatchObject({ retryable: true });
  });

  it('abort mid-stream stops promptly with the signal reason and closes the connection', async () => {
    const gate = deferred();
    openai.script('chat', { kind: 'chat', content: ['Hola', ' mundo'], hold: { afterChunks: 2, until: gate.promise } });
    const ac = new AbortController();
    const it = llm().chat(request, ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ type: 'text', text: 'Hola' });
    const pending = it.next();
    const reason = new Error('barge-in');
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    while (!openai.requests[0].clientClosed) await new Promise((r) => setTimeout(r, 5));
    expect(openai.requests[0].ended).toBe(false);
    gate.resolve();
  });

  it('abort before the response headers rejects with the signal reason', async () => {
    openai.script('chat', { kind: 'hang' });
    const ac = new AbortController();
    const p = rejection(collect(llm({ timeoutMs: 60_000 }).chat(request, ac.signal)));
    while (openai.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    const e = await p;
    expect(e).toBe(ac.signal.reason);
    expect((e as Error).name).toBe('AbortError');
  });
});
