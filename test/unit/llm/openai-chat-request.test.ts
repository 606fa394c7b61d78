import { OpenAiChatLlm } from '../../../src/providers/llm/openai-chat';
import type { ChatRequest } from '../../../src/providers/types';

const req: ChatRequest = { system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }], passages: [], language: 'en', intents: [] };

describe('OpenAiChatLlm.buildRequest: per-request model and temperature', () => {
  it("sends the request's model and temperature (an agent's llm settings) instead of the configured ones", () => {
    const llm = new OpenAiChatLlm({ apiKey: 'sk-test', timeoutMs: 1000, model: 'gpt-4o-mini', temperature: 0.7 });
    expect(llm.buildRequest({ ...req, model: 'gpt-4o', temperature: 0 })).toMatchObject({ model: 'gpt-4o', temperature: 0, stream: true });
    expect(llm.buildRequest({ ...req, temperature: 1.5 })).toMatchObject({ model: 'gpt-4o-mini', temperature: 1.5 });
  });

  it('keeps the configured model and temperature without them (and sends no temperature when none is configured)', () => {
    expect(new OpenAiChatLlm({ apiKey: 'sk-test', timeoutMs: 1000, model: 'gpt-4o-mini', temperature: 0.7 }).buildRequest(req)).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.7 });
    const body = new OpenAiChatLlm({ apiKey: 'sk-test', timeoutMs: 1000 }).buildRequest({ ...req, model: 'llama3' });
    expect(body.model).toBe('llama3');
    expect(body).not.toHaveProperty('temperature');
  });
});
