import { FakeLlm, type FakeReply } from '../../../src/providers/llm/fake';
import { FakeStt } from '../../../src/providers/stt/fake';
import { CALL_CONTROL_PHRASES as P } from '../../../src/engine/call-control-phrases';
import { CSAT_STATED_EVENT, CSAT_UNANSWERED_EVENT, csatPromptFor, spokenScore } from '../../../src/engine/csat-survey';
import type { AgentProfile } from '../../../src/domain/agents';
import { advance, agent, cleanupSessions, endCall, setup, until, utterance } from '../../helpers/session-harness';

beforeEach(() => jest.useFakeTimers());
afterEach(() => {
  cleanupSessions();
  jest.useRealTimers();
});

const TOOLS = [
  { name: 'end_call', description: 'End', parameters: { type: 'object', properties: { reason: { type: 'string' } } } },
  { name: 'transfer_to_human', description: 'Transfer', parameters: { type: 'object', properties: { reason: { type: 'string' } } } },
  { name: 'opt_out', description: 'Opt out', parameters: { type: 'object', properties: {} } },
];
const endCallReply = (reason = 'caller said goodbye'): FakeReply => ({ text: 'Glad I could help.', toolCalls: [{ id: 'c1', name: 'end_call', arguments: JSON.stringify({ reason }) }] });
const surveyAgent: AgentProfile = { ...agent, csatSurvey: { enabled: true } };
const agentLines = (turns: Array<{ role: string; text: string }>) => turns.filter((t) => t.role === 'agent').map((t) => t.text);
const surveyEvents = (events: Array<{ type: string; payload?: Record<string, unknown> }>) => events.filter((e) => e.type.startsWith('csat.'));

/** A call whose LLM ends the conversation after the caller's first words; returns when the survey prompt was said. */
async function toSurvey(o: { agent?: AgentProfile; transcripts?: string[]; timeoutMs?: number } = {}) {
  const llm = new FakeLlm({ replies: [endCallReply()] });
  const a = o.agent ?? surveyAgent;
  const h = setup({ agent: a, llm, tools: TOOLS, stt: new FakeStt({ transcripts: o.transcripts ?? ['Thanks, that is all.'] }) });
  h.session.start();
  await until(() => h.mem.turns.length === 1);
  h.feed(utterance(1000, 2500));
  await until(() => h.mem.turns.some((t) => t.text === csatPromptFor(a, 'en', (l) => P.csatPrompt[l])));
  return h;
}

describe('end-of-call CSAT survey (fake time)', () => {
  it('end_call → prompt → DTMF 4 → "Thank you." → hang-up; the score is a call event, the key stays masked in the dtmf event', async () => {
    const { session, mem, actions } = await toSurvey();
    session.onDtmf('4');
    await until(() => actions.length === 1);
    await endCall(session);
    expect(agentLines(mem.turns)).toEqual(['Hello, thanks for calling.', 'Glad I could help.', P.csatPrompt.en, P.csatThanks.en]);
    expect(surveyEvents(mem.events)).toEqual([{ type: CSAT_STATED_EVENT, payload: { score: 4, via: 'dtmf', atMs: expect.any(Number) } }]);
    expect(mem.events.filter((e) => e.type === 'dtmf').map((e) => e.payload?.digit)).toEqual(['X']);
    expect(actions).toEqual([{ type: 'hangup', callSid: 'CAtest' }]);
    expect(mem.endReasons).toEqual(['caller said goodbye']);
  });

  it('no key before the timeout: no score, the goodbye line, hang-up after exactly timeoutMs of silence', async () => {
    const a = { ...surveyAgent, csatSurvey: { enabled: true, timeoutMs: 5_000 } };
    const { session, mem, actions } = await toSurvey({ agent: a });
    await advance(4_900);
    expect(actions).toEqual([]); // still waiting
    expect(surveyEvents(mem.events)).toEqual([]);
    await until(() => actions.length === 1, 1_000);
    await endCall(session);
    expect(surveyEvents(mem.events)).toEqual([{ type: CSAT_UNANSWERED_EVENT, payload: { reason: 'timeout' } }]);
    expect(agentLines(mem.turns).slice(-2)).toEqual([P.csatPrompt.en, P.goodbye.en]);
  });

  it('an invalid key re-prompts once; a valid key then counts; a second invalid key ends without a score', async () => {
    const first = await toSurvey();
    first.session.onDtmf('9'); // the agent's menu key for end_call: taken by the survey, not the menu
    await until(() => agentLines(first.mem.turns).filter((t) => t === P.csatPrompt.en).length === 2);
    first.session.onDtmf('5');
    await until(() => first.actions.length === 1);
    await endCall(first.session);
    expect(surveyEvents(first.mem.events)).toEqual([{ type: CSAT_STATED_EVENT, payload: expect.objectContaining({ score: 5 }) }]);
    cleanupSessions();

    const second = await toSurvey();
    second.session.onDtmf('#');
    await until(() => agentLines(second.mem.turns).filter((t) => t === P.csatPrompt.en).length === 2);
    second.session.onDtmf('0'); // the transfer key: invalid for the survey, and no transfer
    await until(() => second.actions.length === 1);
    await endCall(second.session);
    expect(surveyEvents(second.mem.events)).toEqual([{ type: CSAT_UNANSWERED_EVENT, payload: { reason: 'invalid' } }]);
    expect(second.actions).toEqual([{ type: 'hangup', callSid: 'CAtest' }]);
    expect(second.mem.transfers).toEqual([]);
  });

  it('a spoken score ("cinco") answers the survey, in the call\'s language; the agent\'s own prompt is used', async () => {
    const a = { ...surveyAgent, csatSurvey: { enabled: true, prompt: { en: 'Rate us from 1 to 5, please.' } } };
    const { session, mem, actions, feed } = await toSurvey({ agent: a, transcripts: ['Thanks, that is all.', 'cinco'] });
    feed(utterance(9000, 9600));
    await until(() => actions.length === 1);
    await endCall(session);
    expect(agentLines(mem.turns).slice(-2)).toEqual(['Rate us from 1 to 5, please.', P.csatThanks.en]);
    expect(surveyEvents(mem.events)).toEqual([{ type: CSAT_STATED_EVENT, payload: expect.objectContaining({ score: 5, via: 'speech' }) }]);
  });

  it('the caller hangs up during the survey: no score, nothing more said, the call ends', async () => {
    const { session, mem, actions } = await toSurvey();
    await endCall(session);
    expect(surveyEvents(mem.events)).toEqual([{ type: CSAT_UNANSWERED_EVENT, payload: { reason: 'ended' } }]);
    expect(agentLines(mem.turns).at(-1)).toBe(P.csatPrompt.en);
    expect(actions).toEqual([]);
    expect(mem.finished).toHaveLength(1);
  });

  const notTriggered: Array<[string, (h: ReturnType<typeof setup>) => Promise<void>, FakeReply | null]> = [
    ['a transfer', async (h) => void (await until(() => h.actions.length === 1)), { text: 'Connecting you.', toolCalls: [{ id: 't', name: 'transfer_to_human', arguments: '{"reason":"wants a person"}' }] }],
    ['an opt-out (end_call reason opt_out)', async (h) => void (await until(() => h.actions.length === 1)), { text: 'You will not be called again.', toolCalls: [{ id: 'o', name: 'end_call', arguments: '{"reason":"opt_out"}' }] }],
    ['a drain (hangUp)', async (h) => { h.session.hangUp('drain'); await until(() => h.actions.length === 1); }, null],
    ['the caller hanging up mid-call', async () => undefined, null],
    ['the DTMF menu end key', async (h) => { h.session.onDtmf('9'); await until(() => h.actions.length === 1); }, null],
  ];
  it.each(notTriggered)('not on %s', async (_name, act, reply) => {
    const h = setup({ agent: surveyAgent, tools: TOOLS, ...(reply ? { llm: new FakeLlm({ replies: [reply] }) } : {}) });
    h.session.start();
    await until(() => h.mem.turns.length === 1);
    if (reply) h.feed(utterance(1000, 2500));
    await act(h);
    await advance(10_000);
    await endCall(h.session);
    expect(agentLines(h.mem.turns)).not.toContain(P.csatPrompt.en);
    expect(surveyEvents(h.mem.events)).toEqual([]);
  });

  it('off (the default): end_call says the goodbye and hangs up at once', async () => {
    const { session, mem, actions } = await (async () => {
      const h = setup({ llm: new FakeLlm({ replies: [{ text: '', toolCalls: endCallReply().toolCalls }] }), tools: TOOLS });
      h.session.start();
      await until(() => h.mem.turns.length === 1);
      h.feed(utterance(1000, 2500));
      await until(() => h.actions.length === 1);
      return h;
    })();
    await endCall(session);
    expect(agentLines(mem.turns)).toEqual(['Hello, thanks for calling.', P.goodbye.en]);
    expect(surveyEvents(mem.events)).toEqual([]);
    expect(actions).toEqual([{ type: 'hangup', callSid: 'CAtest' }]);
  });
});

describe('spokenScore / csatPromptFor', () => {
  it('reads one spoken score in en/es/fr/de; none or two different ones are null', () => {
    expect([spokenScore('Five'), spokenScore('cinco'), spokenScore('trois'), spokenScore('fünf'), spokenScore('I give it a 4')]).toEqual([5, 5, 3, 5, 4]);
    expect([spokenScore('no thanks'), spokenScore('two or three'), spokenScore('10')]).toEqual([null, null, null]);
  });

  it("the agent's prompt of the call's language, then of its default language, then the built-in line", () => {
    const builtin = (l: string) => `builtin-${l}`;
    const a = { defaultLanguage: 'en', csatSurvey: { enabled: true, prompt: { en: 'Rate us.', es: 'Califíquenos.' } } };
    expect(csatPromptFor(a, 'es', builtin)).toBe('Califíquenos.');
    expect(csatPromptFor(a, 'fr', builtin)).toBe('Rate us.');
    expect(csatPromptFor({ defaultLanguage: 'de', csatSurvey: { enabled: true } }, 'de', builtin)).toBe('builtin-de');
  });
});
