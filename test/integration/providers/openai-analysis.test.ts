import OpenAI from 'openai';
import { ProviderError } from '../../../src/providers/errors';
import { analysisResponseSchema, OpenAiCallAnalyzer } from '../../../src/providers/llm/openai-analysis';
import type { ExtractionSchema } from '../../../src/domain/extraction-schema';
import { startOpenAiDouble, type OpenAiDouble } from '../../doubles/openai-double';
import { rejection } from '../../helpers/async';

const SCHEMA: ExtractionSchema = {
  type: 'object',
  properties: {
    orderNumber: { type: 'string', description: 'Order number' },
    plan: { type: 'string', enum: ['basic', 'premium'] },
    tickets: { type: 'integer' },
  },
};
const START = new Date('2026-12-03T14:00:00Z');

/** OpenAiCallAnalyzer through the real `openai` SDK against the local double (structured outputs on the wire). */
describe('OpenAiCallAnalyzer (openai SDK → OpenAI double)', () => {
  let openai: OpenAiDouble;
  let analyzer: OpenAiCallAnalyzer;
  beforeAll(async () => {
    openai = await startOpenAiDouble();
    analyzer = new OpenAiCallAnalyzer({ apiKey: openai.apiKey, baseURL: openai.baseURL, timeoutMs: 2_000, model: 'gpt-4o-mini' });
  });
  afterAll(() => openai.close());
  beforeEach(() => openai.reset());

  it('POSTs a non-streamed chat completion with a strict json_schema the double accepts, and parses its answer', async () => {
    const r = await analyzer.analyze({ transcript: 'Caller: order A-1\nAgent: shipped', schema: SCHEMA, startedAt: START }, AbortSignal.timeout(5_000));
    const [req] = openai.requestsTo('chat');
    expect(req.status).toBe(200);
    expect(req.headers.authorization).toBe(`Bearer ${openai.apiKey}`);
    expect(req.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'call_analysis', strict: true, schema: analysisResponseSchema(SCHEMA) } } });
    expect(req.body.messages[0].content).toContain('2026-12-03T14:00:00.000Z');
    // The double's deterministic sample of the schema: first enum values, 1 for integers.
    expect(r).toEqual({ summary: 'summary value', outcome: 'resolved', fields: { orderNumber: 'orderNumber value', plan: 'basic', tickets: 1 } });
  });

  it('the double refuses a strict schema that leaves a property out of required, like the API (400)', async () => {
    const client = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, maxRetries: 0 });
    const schema = { type: 'object', additionalProperties: false, required: [], properties: { a: { type: 'string' } } };
    const err = (await rejection(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema } } }),
    )) as { status: number; message: string };
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/'required' is required to be supplied .* Missing 'a'/);
  });

  it('content that is not the requested JSON is a non-retryable ProviderError; a 429 is retryable', async () => {
    openai.script('chat', { kind: 'chat', content: ['not json'] }, { kind: 'chat', json: { summary: 's', outcome: 'great', fields: {} } }, { kind: 'error', status: 429 });
    const run = () => rejection(analyzer.analyze({ transcript: 'Caller: hi', schema: null, startedAt: START }, AbortSignal.timeout(5_000)));
    const notJson = (await run()) as ProviderError;
    expect(notJson).toBeInstanceOf(ProviderError);
    expect(notJson.retryable).toBe(false);
    expect(notJson.message).toMatch(/content is not JSON/);
    expect(((await run()) as ProviderError).message).toMatch(/does not match the requested schema/);
    const limited = (await run()) as ProviderError;
    expect(limited).toMatchObject({ retryable: true, status: 429 });
  });
});
